package all

import (
	_ "github.com/eqens/eqens/experiment/cnngcnn"
	_ "github.com/eqens/eqens/experiment/convergence"
	_ "github.com/eqens/eqens/experiment/crossproduct"
	_ "github.com/eqens/eqens/experiment/demo"
	_ "github.com/eqens/eqens/experiment/eqntk"
	_ "github.com/eqens/eqens/experiment/fashion"
	_ "github.com/eqens/eqens/experiment/histology"
	_ "github.com/eqens/eqens/experiment/ising"
	_ "github.com/eqens/eqens/experiment/qm9"
	_ "github.com/eqens/eqens/experiment/toy"
)
