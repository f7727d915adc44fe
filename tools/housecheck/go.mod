module github.com/accrue/accrue/tools/housecheck

go 1.26.8
