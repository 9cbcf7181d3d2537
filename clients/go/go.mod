module github.com/transybao1393/diskdb

go 1.19
