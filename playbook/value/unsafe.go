package value

// Unsafe is a string from YAML's !unsafe tag: it is text, never a
// template, however many {{ }} it holds, so a password or a shell snippet
// with braces reaches its destination unchanged.
type Unsafe string

// String returns the text.
func (u Unsafe) String() string { return string(u) }

// MarshalJSON writes the text as a JSON string.
func (u Unsafe) MarshalJSON() ([]byte, error) { return marshal(string(u)) }
