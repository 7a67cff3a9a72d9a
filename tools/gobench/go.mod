module sockstatlog/tools/gobench

go 1.21
