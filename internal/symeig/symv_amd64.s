//go:build amd64 && !purego

#include "textflag.h"

// func symv4AVX2(n int, a *float64, lda int, x, y *float64, xc *[4]float64, dots *[4]float64)
//
// For the four columns a, a+lda, a+2lda, a+3lda (k = 0..3) and i < n (n a
// multiple of 4): dots[k] = Σ_i a_k[i]·x[i], accumulated with fused
// multiply-adds in four lanes (element i in lane i mod 4, lanes summed as
// (l0+l2)+(l1+l3)), and y[i] = fma(a_3[i], xc[3], fma(a_2[i], xc[2],
// fma(a_1[i], xc[1], fma(a_0[i], xc[0], y[i])))).
TEXT ·symv4AVX2(SB), NOSPLIT, $0-56
	MOVQ n+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ lda+16(FP), R8
	SHLQ $3, R8
	MOVQ x+24(FP), DI
	MOVQ y+32(FP), DX
	MOVQ xc+40(FP), AX
	VBROADCASTSD 0(AX), Y12
	VBROADCASTSD 8(AX), Y13
	VBROADCASTSD 16(AX), Y14
	VBROADCASTSD 24(AX), Y15
	LEAQ (SI)(R8*1), R9
	LEAQ (R9)(R8*1), R10
	LEAQ (R10)(R8*1), R11
	VXORPD Y8, Y8, Y8
	VXORPD Y9, Y9, Y9
	VXORPD Y10, Y10, Y10
	VXORPD Y11, Y11, Y11
	XORQ BX, BX
	SHRQ $2, CX
	JZ done

loop:
	VMOVUPD (DI)(BX*1), Y0
	VMOVUPD (DX)(BX*1), Y1
	VMOVUPD (SI)(BX*1), Y2
	VMOVUPD (R9)(BX*1), Y3
	VMOVUPD (R10)(BX*1), Y4
	VMOVUPD (R11)(BX*1), Y5
	VFMADD231PD Y2, Y0, Y8
	VFMADD231PD Y2, Y12, Y1
	VFMADD231PD Y3, Y0, Y9
	VFMADD231PD Y3, Y13, Y1
	VFMADD231PD Y4, Y0, Y10
	VFMADD231PD Y4, Y14, Y1
	VFMADD231PD Y5, Y0, Y11
	VFMADD231PD Y5, Y15, Y1
	VMOVUPD Y1, (DX)(BX*1)
	ADDQ $32, BX
	DECQ CX
	JNZ loop

done:
	MOVQ dots+48(FP), AX
	VEXTRACTF128 $1, Y8, X0
	VADDPD X0, X8, X0
	VPERMILPD $1, X0, X1
	VADDSD X1, X0, X0
	VMOVSD X0, 0(AX)
	VEXTRACTF128 $1, Y9, X0
	VADDPD X0, X9, X0
	VPERMILPD $1, X0, X1
	VADDSD X1, X0, X0
	VMOVSD X0, 8(AX)
	VEXTRACTF128 $1, Y10, X0
	VADDPD X0, X10, X0
	VPERMILPD $1, X0, X1
	VADDSD X1, X0, X0
	VMOVSD X0, 16(AX)
	VEXTRACTF128 $1, Y11, X0
	VADDPD X0, X11, X0
	VPERMILPD $1, X0, X1
	VADDSD X1, X0, X0
	VMOVSD X0, 24(AX)
	VZEROUPPER
	RET

// func dot4AVX2(n int, a *float64, lda int, x *float64, dots *[4]float64)
//
// dots[k] = Σ_i a_k[i]·x[i] for the four columns a_k = a + k·lda and i < n
// (n a multiple of 4), in the lanes of symv4AVX2.
TEXT ·dot4AVX2(SB), NOSPLIT, $0-40
	MOVQ n+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ lda+16(FP), R8
	SHLQ $3, R8
	MOVQ x+24(FP), DI
	LEAQ (SI)(R8*1), R9
	LEAQ (R9)(R8*1), R10
	LEAQ (R10)(R8*1), R11
	VXORPD Y8, Y8, Y8
	VXORPD Y9, Y9, Y9
	VXORPD Y10, Y10, Y10
	VXORPD Y11, Y11, Y11
	XORQ BX, BX
	SHRQ $2, CX
	JZ dotdone

dotloop:
	VMOVUPD (DI)(BX*1), Y0
	VFMADD231PD (SI)(BX*1), Y0, Y8
	VFMADD231PD (R9)(BX*1), Y0, Y9
	VFMADD231PD (R10)(BX*1), Y0, Y10
	VFMADD231PD (R11)(BX*1), Y0, Y11
	ADDQ $32, BX
	DECQ CX
	JNZ dotloop

dotdone:
	MOVQ dots+32(FP), AX
	VEXTRACTF128 $1, Y8, X0
	VADDPD X0, X8, X0
	VPERMILPD $1, X0, X1
	VADDSD X1, X0, X0
	VMOVSD X0, 0(AX)
	VEXTRACTF128 $1, Y9, X0
	VADDPD X0, X9, X0
	VPERMILPD $1, X0, X1
	VADDSD X1, X0, X0
	VMOVSD X0, 8(AX)
	VEXTRACTF128 $1, Y10, X0
	VADDPD X0, X10, X0
	VPERMILPD $1, X0, X1
	VADDSD X1, X0, X0
	VMOVSD X0, 16(AX)
	VEXTRACTF128 $1, Y11, X0
	VADDPD X0, X11, X0
	VPERMILPD $1, X0, X1
	VADDSD X1, X0, X0
	VMOVSD X0, 24(AX)
	VZEROUPPER
	RET

// func axpy4AVX2(n int, a *float64, lda int, y *float64, coef *[4]float64)
//
// y[i] = fma(a_3[i], coef[3], fma(a_2[i], coef[2], fma(a_1[i], coef[1],
// fma(a_0[i], coef[0], y[i])))) for i < n (n a multiple of 4).
TEXT ·axpy4AVX2(SB), NOSPLIT, $0-40
	MOVQ n+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ lda+16(FP), R8
	SHLQ $3, R8
	MOVQ y+24(FP), DX
	MOVQ coef+32(FP), AX
	VBROADCASTSD 0(AX), Y12
	VBROADCASTSD 8(AX), Y13
	VBROADCASTSD 16(AX), Y14
	VBROADCASTSD 24(AX), Y15
	LEAQ (SI)(R8*1), R9
	LEAQ (R9)(R8*1), R10
	LEAQ (R10)(R8*1), R11
	XORQ BX, BX
	SHRQ $2, CX
	JZ axpydone

axpyloop:
	VMOVUPD (DX)(BX*1), Y1
	VFMADD231PD (SI)(BX*1), Y12, Y1
	VFMADD231PD (R9)(BX*1), Y13, Y1
	VFMADD231PD (R10)(BX*1), Y14, Y1
	VFMADD231PD (R11)(BX*1), Y15, Y1
	VMOVUPD Y1, (DX)(BX*1)
	ADDQ $32, BX
	DECQ CX
	JNZ axpyloop

axpydone:
	VZEROUPPER
	RET
