package main

// Exit statuses of the commands (docs/cli.md). scan and decode share them,
// so that a script can tell "found nothing wrong" from "could not run" from
// "ran, but some records were refused".
const (
	exitOK       = 0 // done; every record decoded (alerts or not)
	exitSetup    = 1 // a usage, file, rules or data-dir error (nothing or not all was run), or a failed check of rules validate/test
	exitRejected = 2 // ran to the end, but some records were refused (named on standard error)
)

// exitStatusHelp ends the help of scan and decode.
const exitStatusHelp = `Exit status: 0 when every record decoded; 1 on a usage, file or rules
error; 2 when the run finished but some records were refused (each is named
on standard error); --allow-rejected turns 2 into 0. See docs/cli.md.`
