// Command eqensbench runs one benchmark workload of bench/run in eqens and
// prints one JSON line: the workload, the median seconds (or rate) and the
// peak resident memory of the process. Each workload runs in its own
// process so that peak memory is per workload.
//
//	eqensbench -work mlp-step|cnn-step|gcnn-step -threads 1|2 -reps 20
//	eqensbench -work ensemble -members 8 -steps 200
//	eqensbench -work ntk-mlp -n 4000
//	eqensbench -work ntk-predict -n 4000
//	eqensbench -work scale -n 40000 -test 1000
//	eqensbench -work dgemm -n 4000
package main
