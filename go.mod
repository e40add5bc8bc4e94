module github.com/picloud/picloud

go 1.26
