// Package all registers every experiment of eqens: import it for its side
// effect, as the command line does.
//
//	import _ "github.com/eqens/eqens/experiment/all"
package all
