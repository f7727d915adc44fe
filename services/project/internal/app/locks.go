package app

import "sync"

// keyedLocks serialises work per key (an opportunity) inside this process, without holding a
// database connection while the work calls other services.
type keyedLocks struct {
	mu sync.Mutex
	m  map[string]*keyedLock
}

type keyedLock struct {
	mu   sync.Mutex
	refs int
}

// lock locks key and returns its unlock function.
func (k *keyedLocks) lock(key string) func() {
	unlock, _ := k.lockWaited(key)
	return unlock
}

// lockWaited is lock that also reports whether another holder of key made it wait.
func (k *keyedLocks) lockWaited(key string) (unlock func(), waited bool) {
	k.mu.Lock()
	if k.m == nil {
		k.m = map[string]*keyedLock{}
	}
	l, ok := k.m[key]
	if !ok {
		l = &keyedLock{}
		k.m[key] = l
	}
	l.refs++
	waited = l.refs > 1
	k.mu.Unlock()
	l.mu.Lock()
	return func() {
		l.mu.Unlock()
		k.mu.Lock()
		if l.refs--; l.refs == 0 {
			delete(k.m, key)
		}
		k.mu.Unlock()
	}, waited
}
