// Package cnngcnn is the "cnn-to-gcnn" experiment (eqens reproduce
// cnn-to-gcnn): CNN ensembles trained with C4 augmentation approach the
// roto-translation GCNN ensemble, in and out of distribution (MNIST,
// CIFAR-10), next to the kernel identity Θ_GCNN = mean_r Θ_CNN(f, ρ(r)f')
// and the infinite ensembles of both. The doc comment of run (cnngcnn.go)
// lists the keys of results.json.
package cnngcnn
