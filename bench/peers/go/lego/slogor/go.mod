// Stand-in for gitlab.com/greyxor/slogor, which the Go module proxy here refuses (403). lego uses it
// only for its default coloured log format; this one logs with log/slog's text handler instead.
module gitlab.com/greyxor/slogor

go 1.26.0
