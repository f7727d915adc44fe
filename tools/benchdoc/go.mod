module github.com/accrue/accrue/tools/benchdoc

go 1.26.8
