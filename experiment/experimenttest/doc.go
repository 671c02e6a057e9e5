// Package experimenttest runs experiments on tiny configurations in tests
// and reads their results.json.
package experimenttest
