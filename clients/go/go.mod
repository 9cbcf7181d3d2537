module github.com/diskdb/diskdb-go

go 1.19
