// Package sshtest runs real OpenSSH servers for drover's integration tests.
//
// [Start] launches an sshd daemon on a loopback address 127.0.1.x with its
// own host key; [TestUsers] creates the accounts the tests log in as (one
// with passwordless sudo, one whose sudo asks for a password, one without
// sudo); [Main] removes them when the tests end. As root everything is
// real; as a normal user sshd runs as that user and become tests skip.
// Under CI=true (or DROVER_TEST_REQUIRE_SSHD=1) nothing skips: a missing
// sshd or missing root fails the test.
package sshtest
