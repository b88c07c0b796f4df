package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hipaa-platform/platform/internal/refusal"
)

// refuseBadArguments makes every mistake in a command line a refusal (exit 2): an unknown command or
// subcommand, with the nearest one suggested, and a wrong number of arguments. A command that only
// groups others prints its help when given none.
func refuseBadArguments(c *cobra.Command) {
	c.SuggestionsMinimumDistance = 2
	switch {
	case c.HasSubCommands():
		c.Args = unknownCommand
		c.RunE = func(cmd *cobra.Command, _ []string) error { return cmd.Help() }
	case c.Args == nil:
		c.Args = noArgs
	}
	for _, sub := range c.Commands() {
		refuseBadArguments(sub)
	}
}

// unknownCommand refuses any argument of a command that only groups others.
func unknownCommand(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	var names []string
	for _, c := range cmd.Commands() {
		if c.IsAvailableCommand() {
			names = append(names, c.Name())
		}
	}
	msg := fmt.Sprintf("unknown command %q for %q; the commands are %s", args[0], cmd.CommandPath(), strings.Join(names, ", "))
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		msg += "; did you mean " + s[0] + "?"
	}
	return refusal.New("%s", msg)
}

// noArgs refuses any argument.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return refusal.New("%s takes no arguments, got %q; see --help", cmd.CommandPath(), strings.Join(args, " "))
	}
	return nil
}

// oneArg requires exactly one argument, named what.
func oneArg(what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != 1 {
			return refusal.New("%s takes one %s, got %d argument(s)%s; see --help", cmd.CommandPath(), what, len(args), quoted(args))
		}
		return nil
	}
}

func quoted(args []string) string {
	if len(args) == 0 {
		return ""
	}
	return fmt.Sprintf(" (%q)", strings.Join(args, " "))
}
