// Package placeholder names the text that the offline tools write in place of a value they must not or
// cannot show: a secret, and a value not known until deployment. The preview writes them, the audit
// reads them back as a secret and an unknown, and the stack-file reader gives a `secure:` value as one,
// so all three agree on one spelling.
package placeholder

const (
	// Secret stands for a secret value, whose plaintext is never printed.
	Secret = "[secret]"
	// Unknown stands for a value that is not known until deployment.
	Unknown = "[unknown]"
)
