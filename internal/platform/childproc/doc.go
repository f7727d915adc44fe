// Package childproc starts the child processes tests run (servers, services) so that they die
// with the test binary: on Linux the kernel sends them SIGKILL when the process that started them
// ends (a panic, a timeout, a ^C), so no stray process keeps ports and databases busy. Start is
// safe for concurrent use.
package childproc
