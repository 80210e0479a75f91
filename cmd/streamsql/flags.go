package main

import (
	"errors"
	"flag"
)

// parseFlags parses a subcommand's arguments. When it returns done, the subcommand must exit
// with code: 0 after -h/--help (the usage was printed), 2 on a bad flag (the flag package printed
// the error and the usage).
func parseFlags(fs *flag.FlagSet, args []string) (code int, done bool) {
	err := fs.Parse(args)
	switch {
	case err == nil:
		return 0, false
	case errors.Is(err, flag.ErrHelp):
		return 0, true
	}
	return 2, true
}
