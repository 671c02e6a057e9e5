// Package histology is the "histology" experiment (eqens reproduce
// histology): on PathMNIST (NCT-CRC-HE-100K) under C4 and D4, augmented CNN
// ensembles against their members and an unaugmented ensemble (OSP and
// accuracy), and kernel regression with the CNN NTK against its group
// averages (the GCNN NTKs). The doc comment of run (histology.go) lists the
// keys of results.json.
package histology
