// Package report prints run events for people: [AdHoc] writes the lines
// `ansible` prints for ad hoc commands (its minimal and oneline callbacks).
package report
