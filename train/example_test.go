package train_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"strings"

	"github.com/eqens/eqens/group"
	"github.com/eqens/eqens/train"
)

// Train a small deep ensemble on the cross-product task with full
// augmentation over the 24 rotations of the cube, then measure how
// equivariant its members and its mean are under random rotations.
func Example() {
	cfg, err := train.ParseConfig(strings.NewReader(`
data:
  name: cross-product
  size: 32
augmentation:
  mode: full
  group: oct
  output: vector      # targets rotate like vectors: rho_Y(g) = R_g
model:
  arch: dense(64),relu,dense(3)
optimizer:
  name: adam
  lr: 0.003
steps: 100
batch_size: 64
members: 4
`), "example.yaml")
	if err != nil {
		log.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "eqens-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	ctx := context.Background()
	rep, err := train.Train(ctx, cfg, dir, train.Options{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("trained members %v for %d steps\n", rep.Trained, rep.Steps)

	ens, err := train.OpenEnsemble(dir)
	if err != nil {
		log.Fatal(err)
	}
	test, err := train.LoadData(ens.Config.Data, "test")
	if err != nil {
		log.Fatal(err)
	}
	so3, err := group.Parse("so3:32")
	if err != nil {
		log.Fatal(err)
	}
	res, err := train.Evaluate(ctx, ens, test, train.EvalOptions{Group: so3})
	if err != nil {
		log.Fatal(err)
	}
	best := res.Group.EquivarianceMembers[0]
	for _, e := range res.Group.EquivarianceMembers {
		best = min(best, e)
	}
	fmt.Println("ensemble mean more equivariant than every member:", res.Group.EquivarianceMean < best)
	// Output:
	// trained members [0 1 2 3] for 100 steps
	// ensemble mean more equivariant than every member: true
}
