//go:build amd64 && !purego

#include "textflag.h"
#include "arccos_amd64.h"

// func reluAVX2(x, y *float32, n int): y = x where int32(x) > 0, else 0;
// n a positive multiple of 8.
TEXT ·reluAVX2(SB), NOSPLIT, $0-24
	MOVQ x+0(FP), SI
	MOVQ y+8(FP), DI
	MOVQ n+16(FP), CX
	VPXOR Y0, Y0, Y0
	CMPQ CX, $32
	JB   tail

loop32:
	VMOVDQU (SI), Y1
	VMOVDQU 32(SI), Y2
	VMOVDQU 64(SI), Y3
	VMOVDQU 96(SI), Y4
	VPCMPGTD Y0, Y1, Y5
	VPCMPGTD Y0, Y2, Y6
	VPCMPGTD Y0, Y3, Y7
	VPCMPGTD Y0, Y4, Y8
	VPAND Y5, Y1, Y1
	VPAND Y6, Y2, Y2
	VPAND Y7, Y3, Y3
	VPAND Y8, Y4, Y4
	VMOVDQU Y1, (DI)
	VMOVDQU Y2, 32(DI)
	VMOVDQU Y3, 64(DI)
	VMOVDQU Y4, 96(DI)
	ADDQ $128, SI
	ADDQ $128, DI
	SUBQ $32, CX
	CMPQ CX, $32
	JAE  loop32

tail:
	TESTQ CX, CX
	JZ    done

loop8:
	VMOVDQU (SI), Y1
	VPCMPGTD Y0, Y1, Y5
	VPAND Y5, Y1, Y1
	VMOVDQU Y1, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	SUBQ $8, CX
	JNZ  loop8

done:
	VZEROUPPER
	RET

// func maskAVX2(m, d, o *float32, n int): o = d where int32(m) > 0, else 0;
// n a positive multiple of 8.
TEXT ·maskAVX2(SB), NOSPLIT, $0-32
	MOVQ m+0(FP), SI
	MOVQ d+8(FP), DX
	MOVQ o+16(FP), DI
	MOVQ n+24(FP), CX
	VPXOR Y0, Y0, Y0
	CMPQ CX, $32
	JB   mtail

mloop32:
	VMOVDQU (SI), Y1
	VMOVDQU 32(SI), Y2
	VMOVDQU 64(SI), Y3
	VMOVDQU 96(SI), Y4
	VPCMPGTD Y0, Y1, Y1
	VPCMPGTD Y0, Y2, Y2
	VPCMPGTD Y0, Y3, Y3
	VPCMPGTD Y0, Y4, Y4
	VPAND (DX), Y1, Y1
	VPAND 32(DX), Y2, Y2
	VPAND 64(DX), Y3, Y3
	VPAND 96(DX), Y4, Y4
	VMOVDQU Y1, (DI)
	VMOVDQU Y2, 32(DI)
	VMOVDQU Y3, 64(DI)
	VMOVDQU Y4, 96(DI)
	ADDQ $128, SI
	ADDQ $128, DX
	ADDQ $128, DI
	SUBQ $32, CX
	CMPQ CX, $32
	JAE  mloop32

mtail:
	TESTQ CX, CX
	JZ    mdone

mloop8:
	VMOVDQU (SI), Y1
	VPCMPGTD Y0, Y1, Y1
	VPAND (DX), Y1, Y1
	VMOVDQU Y1, (DI)
	ADDQ $32, SI
	ADDQ $32, DX
	ADDQ $32, DI
	SUBQ $8, CX
	JNZ  mloop8

mdone:
	VZEROUPPER
	RET

// func addAVX2(dst, src *float32, n int): dst += src; n a positive
// multiple of 8.
TEXT ·addAVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	CMPQ CX, $32
	JB   atail

aloop32:
	VMOVUPS (DI), Y1
	VMOVUPS 32(DI), Y2
	VMOVUPS 64(DI), Y3
	VMOVUPS 96(DI), Y4
	VADDPS (SI), Y1, Y1
	VADDPS 32(SI), Y2, Y2
	VADDPS 64(SI), Y3, Y3
	VADDPS 96(SI), Y4, Y4
	VMOVUPS Y1, (DI)
	VMOVUPS Y2, 32(DI)
	VMOVUPS Y3, 64(DI)
	VMOVUPS Y4, 96(DI)
	ADDQ $128, SI
	ADDQ $128, DI
	SUBQ $32, CX
	CMPQ CX, $32
	JAE  aloop32

atail:
	TESTQ CX, CX
	JZ    adone

aloop8:
	VMOVUPS (DI), Y1
	VADDPS (SI), Y1, Y1
	VMOVUPS Y1, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	SUBQ $8, CX
	JNZ  aloop8

adone:
	VZEROUPPER
	RET

// func addRowsAVX2(y, b *float32, rows, nc int): y[r*nc+c] += b[c];
// nc a positive multiple of 8, rows > 0.
TEXT ·addRowsAVX2(SB), NOSPLIT, $0-32
	MOVQ y+0(FP), DI
	MOVQ b+8(FP), SI
	MOVQ rows+16(FP), BX
	MOVQ nc+24(FP), DX

rrow:
	MOVQ SI, R8
	MOVQ DX, CX

rblk:
	VMOVUPS (DI), Y1
	VADDPS (R8), Y1, Y1
	VMOVUPS Y1, (DI)
	ADDQ $32, DI
	ADDQ $32, R8
	SUBQ $8, CX
	JNZ  rblk
	DECQ BX
	JNZ  rrow
	VZEROUPPER
	RET

// func sumRowsAVX2(db, dy *float32, rows, nc int): db[c] += dy[r*nc+c],
// row after row; nc a positive multiple of 8, rows > 0.
TEXT ·sumRowsAVX2(SB), NOSPLIT, $0-32
	MOVQ db+0(FP), DI
	MOVQ dy+8(FP), SI
	MOVQ rows+16(FP), BX
	MOVQ nc+24(FP), DX

srow:
	MOVQ DI, R8
	MOVQ DX, CX

sblk:
	VMOVUPS (R8), Y1
	VADDPS (SI), Y1, Y1
	VMOVUPS Y1, (R8)
	ADDQ $32, SI
	ADDQ $32, R8
	SUBQ $8, CX
	JNZ  sblk
	DECQ BX
	JNZ  srow
	VZEROUPPER
	RET

// func copyBlocksAVX2(dst, src *float32, rows, n, ds, ss int):
// dst[r*ds+i] = src[r*ss+i] for i < n, row after row; n a positive
// multiple of 8, rows > 0, strides in elements.
TEXT ·copyBlocksAVX2(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ rows+16(FP), BX
	MOVQ n+24(FP), DX
	MOVQ ds+32(FP), R9
	MOVQ ss+40(FP), R10
	SHLQ $2, R9
	SHLQ $2, R10

crow:
	MOVQ DI, R8
	MOVQ SI, R11
	MOVQ DX, CX

cblk:
	VMOVUPS (R11), Y1
	VMOVUPS Y1, (R8)
	ADDQ $32, R11
	ADDQ $32, R8
	SUBQ $8, CX
	JNZ  cblk
	ADDQ R9, DI
	ADDQ R10, SI
	DECQ BX
	JNZ  crow
	VZEROUPPER
	RET

// func addBlocksAVX2(dst, src *float32, rows, n, ds, ss int):
// dst[r*ds+i] += src[r*ss+i] for i < n, row after row (rows of dst may
// overlap); n a positive multiple of 8, rows > 0, strides in elements.
TEXT ·addBlocksAVX2(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ rows+16(FP), BX
	MOVQ n+24(FP), DX
	MOVQ ds+32(FP), R9
	MOVQ ss+40(FP), R10
	SHLQ $2, R9
	SHLQ $2, R10

brow:
	MOVQ DI, R8
	MOVQ SI, R11
	MOVQ DX, CX

bblk:
	VMOVUPS (R8), Y1
	VADDPS  (R11), Y1, Y1
	VMOVUPS Y1, (R8)
	ADDQ $32, R11
	ADDQ $32, R8
	SUBQ $8, CX
	JNZ  bblk
	ADDQ R9, DI
	ADDQ R10, SI
	DECQ BX
	JNZ  brow
	VZEROUPPER
	RET

// func axpyF64AVX2(dst, src *float64, w float64, n int): dst += w*src,
// product and sum rounded separately (VMULPD, VADDPD: no FMA, the same bits
// as the Go loop); n a positive multiple of 4.
TEXT ·axpyF64AVX2(SB), NOSPLIT, $0-32
	MOVQ         dst+0(FP), DI
	MOVQ         src+8(FP), SI
	VBROADCASTSD w+16(FP), Y0
	MOVQ         n+24(FP), CX
	CMPQ         CX, $16
	JB           xtail

xloop16:
	VMULPD  (SI), Y0, Y1
	VMULPD  32(SI), Y0, Y2
	VMULPD  64(SI), Y0, Y3
	VMULPD  96(SI), Y0, Y4
	VADDPD  (DI), Y1, Y1
	VADDPD  32(DI), Y2, Y2
	VADDPD  64(DI), Y3, Y3
	VADDPD  96(DI), Y4, Y4
	VMOVUPD Y1, (DI)
	VMOVUPD Y2, 32(DI)
	VMOVUPD Y3, 64(DI)
	VMOVUPD Y4, 96(DI)
	ADDQ    $128, SI
	ADDQ    $128, DI
	SUBQ    $16, CX
	CMPQ    CX, $16
	JAE     xloop16

xtail:
	TESTQ CX, CX
	JZ    xdone

xloop4:
	VMULPD  (SI), Y0, Y1
	VADDPD  (DI), Y1, Y1
	VMOVUPD Y1, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	SUBQ    $4, CX
	JNZ     xloop4

xdone:
	VZEROUPPER
	RET

// func scaleF64AVX2(dst, src *float64, w float64, n int): dst = w*src + 0
// (VMULPD, then VADDPD of +0: the bits of the Go loop); n a positive
// multiple of 4.
TEXT ·scaleF64AVX2(SB), NOSPLIT, $0-32
	MOVQ         dst+0(FP), DI
	MOVQ         src+8(FP), SI
	VBROADCASTSD w+16(FP), Y0
	MOVQ         n+24(FP), CX
	VXORPD       Y5, Y5, Y5
	CMPQ         CX, $16
	JB           stail

sloop16:
	VMULPD  (SI), Y0, Y1
	VMULPD  32(SI), Y0, Y2
	VMULPD  64(SI), Y0, Y3
	VMULPD  96(SI), Y0, Y4
	VADDPD  Y5, Y1, Y1
	VADDPD  Y5, Y2, Y2
	VADDPD  Y5, Y3, Y3
	VADDPD  Y5, Y4, Y4
	VMOVUPD Y1, (DI)
	VMOVUPD Y2, 32(DI)
	VMOVUPD Y3, 64(DI)
	VMOVUPD Y4, 96(DI)
	ADDQ    $128, SI
	ADDQ    $128, DI
	SUBQ    $16, CX
	CMPQ    CX, $16
	JAE     sloop16

stail:
	TESTQ CX, CX
	JZ    sdone

sloop4:
	VMULPD  (SI), Y0, Y1
	VADDPD  Y5, Y1, Y1
	VMOVUPD Y1, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	SUBQ    $4, CX
	JNZ     sloop4

sdone:
	VZEROUPPER
	RET

// func reluArcCosAVX2(k, t, v1 *float64, v1step int, v2 *float64, n int, scale float64, c *float64):
// the arc-cosine map of ReLUArcCos on four entries at a time, the same
// operations as reluArcCosOne (FMA where it uses math.FMA); t may be nil; n a positive multiple
// of 4; c holds atanConst with every constant repeated four times (32 bytes
// each). v1step is 1 for a vector of variances v1, 0 for one variance *v1
// for all entries.
TEXT ·reluArcCosAVX2(SB), NOSPLIT, $0-64
	MOVQ         k+0(FP), SI
	MOVQ         t+8(FP), DI
	MOVQ         v1+16(FP), R9
	MOVQ         v1step+24(FP), R11
	MOVQ         v2+32(FP), R10
	MOVQ         n+40(FP), CX
	VBROADCASTSD scale+48(FP), Y15
	MOVQ         c+56(FP), R8
	VXORPD       Y14, Y14, Y14
	VBROADCASTSD (R9), Y12
	SHLQ         $5, R11

rloop:
	VMOVUPD (SI), Y0
	VMOVAPD Y12, Y1
	TESTQ   R11, R11
	JZ      rv1
	VMOVUPD (R9), Y1

rv1:
	VMULPD  (R10), Y1, Y1
	VMULPD  Y0, Y0, Y2
	VSUBPD  Y2, Y1, Y1
	VMAXPD  Y14, Y1, Y1
	VSQRTPD Y1, Y1             // Y1 = sq
	VANDPD  544(R8), Y0, Y2    // Y2 = |k|
	VCMPPD  $0x1e, Y2, Y1, Y3  // Y3 = swap: sq > |k|
	VBLENDVPD Y3, Y1, Y2, Y4   // Y4 = mx
	VBLENDVPD Y3, Y2, Y1, Y5   // Y5 = mn
	VMULPD  352(R8), Y4, Y6    // tan(pi/8) mx
	VCMPPD  $0x1e, Y6, Y5, Y6  // Y6 = big: mn > tan(pi/8) mx
	VSUBPD  Y4, Y5, Y7         // mn - mx
	VADDPD  Y4, Y5, Y8         // mn + mx
	VBLENDVPD Y6, Y7, Y5, Y7   // num
	VBLENDVPD Y6, Y8, Y4, Y8   // den
	VDIVPD  Y8, Y7, Y5         // Y5 = x = num/den
	VCMPPD  $0x00, Y14, Y4, Y9 // mx == 0
	VBLENDVPD Y9, Y14, Y5, Y5  // x = 0 there
	VMULPD  Y5, Y5, Y7         // Y7 = z
	VMULPD  Y7, Y7, Y8         // z²
	VMOVUPD 32(R8), Y9
	VFMADD213PD 0(R8), Y7, Y9  // q0 = c1 z + c0
	VMOVUPD 96(R8), Y10
	VFMADD213PD 64(R8), Y7, Y10 // q1 = c3 z + c2
	VFMADD231PD Y8, Y10, Y9    // r0 = q1 z² + q0
	VMOVUPD 160(R8), Y10
	VFMADD213PD 128(R8), Y7, Y10 // q2
	VMOVUPD 224(R8), Y11
	VFMADD213PD 192(R8), Y7, Y11 // q3
	VFMADD231PD Y8, Y11, Y10   // r1 = q3 z² + q2
	VMOVUPD 288(R8), Y11
	VFMADD213PD 256(R8), Y7, Y11 // q4
	VMOVUPD 320(R8), Y2
	VFMADD213PD Y11, Y8, Y2    // r2 = c10 z² + q4
	VMULPD  Y8, Y8, Y4         // z⁴
	VFMADD231PD Y4, Y10, Y9    // s0 = r1 z⁴ + r0
	VMULPD  Y4, Y4, Y4         // z⁸
	VFMADD231PD Y4, Y2, Y9     // Y9 = p(z) = r2 z⁸ + s0 (Estrin)
	VMULPD  Y7, Y9, Y8         // z p
	VFMADD213PD Y5, Y5, Y8     // Y8 = x + x z p: theta of the reduced argument
	VADDPD  384(R8), Y8, Y10
	VADDPD  416(R8), Y10, Y10
	VBLENDVPD Y6, Y10, Y8, Y8  // big: pi/4 + theta + morebits/2
	VMOVUPD 448(R8), Y10
	VSUBPD  Y8, Y10, Y10
	VADDPD  480(R8), Y10, Y10
	VBLENDVPD Y3, Y10, Y8, Y8  // swap: pi/2 - theta + morebits
	VMOVUPD 512(R8), Y10
	VSUBPD  Y8, Y10, Y10
	VBLENDVPD Y0, Y10, Y8, Y8  // sign of k: pi - theta
	VMOVUPD 512(R8), Y10
	VSUBPD  Y8, Y10, Y10       // Y10 = kd = pi - theta
	VMULPD  Y0, Y10, Y11
	VADDPD  Y11, Y1, Y11
	VMULPD  Y15, Y11, Y11
	VMOVUPD Y11, (SI)
	TESTQ   DI, DI
	JZ      rnext
	VMULPD  Y15, Y10, Y10
	VMULPD  (DI), Y10, Y10
	VMOVUPD Y10, (DI)
	ADDQ    $32, DI

rnext:
	ADDQ $32, SI
	ADDQ R11, R9
	ADDQ $32, R10
	SUBQ $4, CX
	JNZ  rloop
	VZEROUPPER
	RET

// func axpyRowsF64AVX2(dst, src *float64, w float64, rows, n, ds, ss int):
// for every row r, dst[r*ds+i] += w*src[r*ss+i], i < n; blocks of 4 with
// VMULPD/VADDPD, the n%4 rest with VMULSD/VADDSD (the same rounding as the
// Go loop); rows, n > 0.
TEXT ·axpyRowsF64AVX2(SB), NOSPLIT, $0-56
	MOVQ         dst+0(FP), DI
	MOVQ         src+8(FP), SI
	VBROADCASTSD w+16(FP), Y0
	MOVQ         rows+24(FP), BX
	MOVQ         n+32(FP), DX
	MOVQ         ds+40(FP), R9
	MOVQ         ss+48(FP), R10
	SHLQ         $3, R9
	SHLQ         $3, R10

yrow:
	MOVQ DI, R8
	MOVQ SI, R11
	MOVQ DX, CX
	CMPQ CX, $4
	JB   ytail

yblk:
	VMULPD  (R11), Y0, Y1
	VADDPD  (R8), Y1, Y1
	VMOVUPD Y1, (R8)
	ADDQ    $32, R11
	ADDQ    $32, R8
	SUBQ    $4, CX
	CMPQ    CX, $4
	JAE     yblk

ytail:
	TESTQ CX, CX
	JZ    ynext

yone:
	VMULSD  (R11), X0, X1
	VADDSD  (R8), X1, X1
	VMOVSD  X1, (R8)
	ADDQ    $8, R11
	ADDQ    $8, R8
	DECQ    CX
	JNZ     yone

ynext:
	ADDQ R9, DI
	ADDQ R10, SI
	DECQ BX
	JNZ  yrow
	VZEROUPPER
	RET

// func reluArcCosAVX512(k, t, v1 *float64, v1step int, v2 *float64, n int, scale float64, c *float64):
// reluArcCosAVX2 on eight entries at a time (twice the entries per
// dependency chain: the map is latency-bound); the same operations, blends
// by mask registers; c is atanConst itself (8 bytes a constant, broadcast);
// n a positive multiple of 8. Needs AVX-512F and DQ.
TEXT ·reluArcCosAVX512(SB), NOSPLIT, $0-64
	MOVQ         k+0(FP), SI
	MOVQ         t+8(FP), DI
	MOVQ         v1+16(FP), R9
	MOVQ         v1step+24(FP), R11
	MOVQ         v2+32(FP), R10
	MOVQ         n+40(FP), CX
	VBROADCASTSD scale+48(FP), Z15
	MOVQ         c+56(FP), R8
	VXORPD       Z14, Z14, Z14
	VBROADCASTSD (R9), Z12
	SHLQ         $6, R11

zloop:
	VMOVUPD (SI), Z0
	VMOVAPD Z12, Z1
	TESTQ   R11, R11
	JZ      zv1
	VMOVUPD (R9), Z1

zv1:
	VMULPD  (R10), Z1, Z1
	VMULPD  Z0, Z0, Z2
	VSUBPD  Z2, Z1, Z1
	VMAXPD  Z14, Z1, Z1
	VSQRTPD Z1, Z1                  // Z1 = sq
	VANDPD.BCST 136(R8), Z0, Z2     // Z2 = |k|
	VCMPPD  $0x1e, Z2, Z1, K1       // K1 = swap: sq > |k|
	VMOVAPD Z2, Z4
	VMOVAPD Z1, K1, Z4              // Z4 = mx
	VMOVAPD Z1, Z5
	VMOVAPD Z2, K1, Z5              // Z5 = mn
	VMULPD.BCST 88(R8), Z4, Z6      // tan(pi/8) mx
	VCMPPD  $0x1e, Z6, Z5, K2       // K2 = big: mn > tan(pi/8) mx
	VSUBPD  Z4, Z5, Z7              // mn - mx
	VADDPD  Z4, Z5, Z8              // mn + mx
	VMOVAPD Z5, Z9
	VMOVAPD Z7, K2, Z9              // num
	VMOVAPD Z4, Z10
	VMOVAPD Z8, K2, Z10             // den
	VDIVPD  Z10, Z9, Z5             // Z5 = x = num/den
	VCMPPD  $0x00, Z14, Z4, K3      // mx == 0
	VMOVAPD Z14, K3, Z5             // x = 0 there
	VMULPD  Z5, Z5, Z7              // Z7 = z
	VMULPD  Z7, Z7, Z8              // z²
	VBROADCASTSD 8(R8), Z9
	VFMADD213PD.BCST 0(R8), Z7, Z9  // q0 = c1 z + c0
	VBROADCASTSD 24(R8), Z10
	VFMADD213PD.BCST 16(R8), Z7, Z10 // q1
	VFMADD231PD Z8, Z10, Z9         // r0 = q1 z² + q0
	VBROADCASTSD 40(R8), Z10
	VFMADD213PD.BCST 32(R8), Z7, Z10 // q2
	VBROADCASTSD 56(R8), Z16
	VFMADD213PD.BCST 48(R8), Z7, Z16 // q3
	VFMADD231PD Z8, Z16, Z10        // r1 = q3 z² + q2
	VBROADCASTSD 72(R8), Z16
	VFMADD213PD.BCST 64(R8), Z7, Z16 // q4
	VBROADCASTSD 80(R8), Z17
	VFMADD213PD Z16, Z8, Z17        // r2 = c10 z² + q4
	VMULPD  Z8, Z8, Z18             // z⁴
	VFMADD231PD Z18, Z10, Z9        // s0 = r1 z⁴ + r0
	VMULPD  Z18, Z18, Z18           // z⁸
	VFMADD231PD Z18, Z17, Z9        // Z9 = p(z) = r2 z⁸ + s0 (Estrin)
	VMULPD  Z7, Z9, Z8              // z p
	VFMADD213PD Z5, Z5, Z8          // Z8 = x + x z p: theta of the reduced argument
	VADDPD.BCST 96(R8), Z8, Z10
	VADDPD.BCST 104(R8), Z10, Z10
	VMOVAPD Z10, K2, Z8             // big: pi/4 + theta + morebits/2
	VBROADCASTSD 112(R8), Z10
	VSUBPD  Z8, Z10, Z10
	VADDPD.BCST 120(R8), Z10, Z10
	VMOVAPD Z10, K1, Z8             // swap: pi/2 - theta + morebits
	VPMOVQ2M Z0, K4                 // sign of k
	VBROADCASTSD 128(R8), Z11       // pi
	VSUBPD  Z8, Z11, Z10
	VMOVAPD Z10, K4, Z8             // pi - theta where k <= -0
	VSUBPD  Z8, Z11, Z10            // Z10 = kd = pi - theta
	VMULPD  Z0, Z10, Z11
	VADDPD  Z11, Z1, Z11
	VMULPD  Z15, Z11, Z11
	VMOVUPD Z11, (SI)
	TESTQ   DI, DI
	JZ      znext
	VMULPD  Z15, Z10, Z10
	VMULPD  (DI), Z10, Z10
	VMOVUPD Z10, (DI)
	ADDQ    $64, DI

znext:
	ADDQ $64, SI
	ADDQ R11, R9
	ADDQ $64, R10
	SUBQ $8, CX
	JNZ  zloop
	VZEROUPPER
	RET

// func sum3MaskAVX2(dst, a, b, c *float64, ma, mc *uint64, n int):
// dst = ((a & ma) + b) + (c & mc), eight then four entries at a time; n a
// positive multiple of 4.
TEXT ·sum3MaskAVX2(SB), NOSPLIT, $0-56
	MOVQ dst+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), R8
	MOVQ c+24(FP), R9
	MOVQ ma+32(FP), R10
	MOVQ mc+40(FP), R11
	MOVQ n+48(FP), CX
	CMPQ CX, $8
	JB   m4

m8:
	VMOVUPD (SI), Y0
	VMOVUPD 32(SI), Y1
	VANDPD  (R10), Y0, Y0
	VANDPD  32(R10), Y1, Y1
	VADDPD  (R8), Y0, Y0
	VADDPD  32(R8), Y1, Y1
	VMOVUPD (R9), Y2
	VMOVUPD 32(R9), Y3
	VANDPD  (R11), Y2, Y2
	VANDPD  32(R11), Y3, Y3
	VADDPD  Y2, Y0, Y0
	VADDPD  Y3, Y1, Y1
	VMOVUPD Y0, (DI)
	VMOVUPD Y1, 32(DI)
	ADDQ    $64, SI
	ADDQ    $64, R8
	ADDQ    $64, R9
	ADDQ    $64, R10
	ADDQ    $64, R11
	ADDQ    $64, DI
	SUBQ    $8, CX
	CMPQ    CX, $8
	JAE     m8

m4:
	TESTQ CX, CX
	JZ    mdone
	VMOVUPD (SI), Y0
	VANDPD  (R10), Y0, Y0
	VADDPD  (R8), Y0, Y0
	VMOVUPD (R9), Y2
	VANDPD  (R11), Y2, Y2
	VADDPD  Y2, Y0, Y0
	VMOVUPD Y0, (DI)

mdone:
	VZEROUPPER
	RET

// func sum3AffineAVX2(dst, a, b, c *float64, n int, nw float64, add *float64, add0 float64):
// dst = nw*((a + b) + c) + add (or + add0 where add is nil), the sums
// rounded, then one FMA; eight then four entries at a time; n a positive
// multiple of 4. Needs FMA.
TEXT ·sum3AffineAVX2(SB), NOSPLIT, $0-64
	MOVQ         dst+0(FP), DI
	MOVQ         a+8(FP), SI
	MOVQ         b+16(FP), R8
	MOVQ         c+24(FP), R9
	MOVQ         n+32(FP), CX
	VBROADCASTSD nw+40(FP), Y13
	MOVQ         add+48(FP), R10
	VBROADCASTSD add0+56(FP), Y15
	TESTQ        R10, R10
	JNZ          afirst
	CMPQ         CX, $8
	JB   s4

s8:
	VMOVUPD (SI), Y0
	VMOVUPD 32(SI), Y1
	VADDPD  (R8), Y0, Y0
	VADDPD  32(R8), Y1, Y1
	VADDPD  (R9), Y0, Y0
	VADDPD  32(R9), Y1, Y1
	VFMADD213PD Y15, Y13, Y0
	VFMADD213PD Y15, Y13, Y1
	VMOVUPD Y0, (DI)
	VMOVUPD Y1, 32(DI)
	ADDQ    $64, SI
	ADDQ    $64, R8
	ADDQ    $64, R9
	ADDQ    $64, DI
	SUBQ    $8, CX
	CMPQ    CX, $8
	JAE     s8

s4:
	TESTQ CX, CX
	JZ    sdone
	VMOVUPD (SI), Y0
	VADDPD  (R8), Y0, Y0
	VADDPD  (R9), Y0, Y0
	VFMADD213PD Y15, Y13, Y0
	VMOVUPD Y0, (DI)

sdone:
	VZEROUPPER
	RET

afirst:
	CMPQ CX, $8
	JB   a4

a8:
	VMOVUPD (SI), Y0
	VMOVUPD 32(SI), Y1
	VADDPD  (R8), Y0, Y0
	VADDPD  32(R8), Y1, Y1
	VADDPD  (R9), Y0, Y0
	VADDPD  32(R9), Y1, Y1
	VFMADD213PD (R10), Y13, Y0
	VFMADD213PD 32(R10), Y13, Y1
	VMOVUPD Y0, (DI)
	VMOVUPD Y1, 32(DI)
	ADDQ    $64, SI
	ADDQ    $64, R8
	ADDQ    $64, R9
	ADDQ    $64, R10
	ADDQ    $64, DI
	SUBQ    $8, CX
	CMPQ    CX, $8
	JAE     a8

a4:
	TESTQ CX, CX
	JZ    adone
	VMOVUPD (SI), Y0
	VADDPD  (R8), Y0, Y0
	VADDPD  (R9), Y0, Y0
	VFMADD213PD (R10), Y13, Y0
	VMOVUPD Y0, (DI)

adone:
	VZEROUPPER
	RET

// SUMLANES4(x, a, b, c, d): adds the 16 values at x to the lanes in
// a, b, c, d (four each, in order); STORELANES4(dst, a, b, c, d) stores
// the lanes to the 16 values at dst.
#define SUMLANES4(x, a, b, c, d) \
	VADDPD (x), a, a   \
	VADDPD 32(x), b, b \
	VADDPD 64(x), c, c \
	VADDPD 96(x), d, d

#define STORELANES4(dst, a, b, c, d) \
	VMOVUPD a, (dst)   \
	VMOVUPD b, 32(dst) \
	VMOVUPD c, 64(dst) \
	VMOVUPD d, 96(dst)

// func sumLanesAVX2(x *float64, n int, lanes *[16]float64): lanes[j] =
// sum of x[16k+j] (n a positive multiple of 16), four accumulators.
TEXT ·sumLanesAVX2(SB), NOSPLIT, $0-24
	MOVQ   x+0(FP), SI
	MOVQ   n+8(FP), CX
	MOVQ   lanes+16(FP), DI
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3

sl16:
	SUMLANES4(SI, Y0, Y1, Y2, Y3)
	ADDQ   $128, SI
	SUBQ   $16, CX
	JNZ    sl16
	STORELANES4(DI, Y0, Y1, Y2, Y3)
	VZEROUPPER
	RET

// func sumLanesPairAVX2(x, y *float64, n int, lx, ly *[16]float64):
// sumLanesAVX2 on x and y at once (eight chains of additions instead of
// four); n a positive multiple of 16.
TEXT ·sumLanesPairAVX2(SB), NOSPLIT, $0-40
	MOVQ   x+0(FP), SI
	MOVQ   y+8(FP), DX
	MOVQ   n+16(FP), CX
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3
	VXORPD Y4, Y4, Y4
	VXORPD Y5, Y5, Y5
	VXORPD Y6, Y6, Y6
	VXORPD Y7, Y7, Y7

sp16:
	SUMLANES4(SI, Y0, Y1, Y2, Y3)
	SUMLANES4(DX, Y4, Y5, Y6, Y7)
	ADDQ   $128, SI
	ADDQ   $128, DX
	SUBQ   $16, CX
	JNZ    sp16
	MOVQ   lx+24(FP), DI
	STORELANES4(DI, Y0, Y1, Y2, Y3)
	MOVQ   ly+32(FP), DI
	STORELANES4(DI, Y4, Y5, Y6, Y7)
	VZEROUPPER
	RET

// func erfAVX512(k, t, v1 *float64, v1step int, v2 *float64, n int, m *ErfMap, c *float64):
// the kernel map of ErfKernel on eight entries at a time, the same
// operations as erfOne (FMA where it uses math.FMA); t may be nil; v1 has
// one variance per entry (v1step 1) or one for all (v1step 0); m points to
// B2, A, C2, D; c is erfConst (8 bytes a constant); n a positive multiple
// of 8. Needs AVX-512F and DQ.
TEXT ·erfAVX512(SB), NOSPLIT, $0-64
	MOVQ         k+0(FP), SI
	MOVQ         t+8(FP), DI
	MOVQ         v1+16(FP), R9
	MOVQ         v1step+24(FP), R11
	MOVQ         v2+32(FP), R10
	MOVQ         n+40(FP), CX
	MOVQ         m+48(FP), DX
	MOVQ         c+56(FP), R8
	VBROADCASTSD 0(DX), Z20          // b²
	VBROADCASTSD 8(DX), Z21          // A
	VBROADCASTSD 16(DX), Z22         // c²
	VBROADCASTSD 24(DX), Z23         // D
	VBROADCASTSD (R9), Z12           // v1 for v1step 0
	VBROADCASTSD 104(R8), Z13        // 0.5
	SHLQ         $6, R11

eloop:
	VMOVUPD (SI), Z0
	VMULPD  Z20, Z0, Z0              // Z0 = kk = b² k
	VMOVAPD Z12, Z1
	TESTQ   R11, R11
	JZ      ev1
	VMOVUPD (R9), Z1

ev1:
	VMULPD      Z20, Z1, Z1
	VADDPD      Z1, Z1, Z1
	VADDPD.BCST 120(R8), Z1, Z1      // p1 = 2 (b² v1) + 1
	VMULPD      (R10), Z20, Z2
	VADDPD      Z2, Z2, Z2
	VADDPD.BCST 120(R8), Z2, Z2      // p2
	VMULPD      Z2, Z1, Z1           // Z1 = P = p1 p2
	VSQRTPD     Z1, Z3
	VADDPD      Z0, Z0, Z4
	VDIVPD      Z3, Z4, Z4           // x = 2 kk / sqrt(P)
	VMAXPD.BCST 136(R8), Z4, Z4      // max(x, -1)
	VMINPD.BCST 120(R8), Z4, Z4      // min(x, 1)
	VANDPD.BCST 144(R8), Z4, Z5      // Z5 = ax = |x|
	VCMPPD      $0x1e, Z13, Z5, K1   // K1 = big: ax > 0.5
	VMULPD      Z5, Z5, Z7           // z = ax²
	VMOVAPD     Z5, Z6               // y = ax
	VBROADCASTSD 120(R8), Z8
	VSUBPD      Z5, Z8, Z8
	VMULPD      Z13, Z8, Z8          // zb = (1 - ax) 0.5
	VMOVAPD     Z8, K1, Z7           // z = zb where big
	VSQRTPD     Z8, Z9
	VMOVAPD     Z9, K1, Z6           // y = sqrt(zb) where big
	VBROADCASTSD 96(R8), Z10         // q = c12
	VFMADD213PD.BCST 88(R8), Z7, Z10
	VFMADD213PD.BCST 80(R8), Z7, Z10
	VFMADD213PD.BCST 72(R8), Z7, Z10
	VFMADD213PD.BCST 64(R8), Z7, Z10
	VFMADD213PD.BCST 56(R8), Z7, Z10
	VFMADD213PD.BCST 48(R8), Z7, Z10
	VFMADD213PD.BCST 40(R8), Z7, Z10
	VFMADD213PD.BCST 32(R8), Z7, Z10
	VFMADD213PD.BCST 24(R8), Z7, Z10
	VFMADD213PD.BCST 16(R8), Z7, Z10
	VFMADD213PD.BCST 8(R8), Z7, Z10
	VFMADD213PD.BCST 0(R8), Z7, Z10  // Z10 = q(z)
	VMULPD      Z7, Z10, Z10         // z q
	VFMADD213PD Z6, Z6, Z10          // r = y + y z q
	VADDPD      Z10, Z10, Z11
	VBROADCASTSD 112(R8), Z14
	VSUBPD      Z11, Z14, Z14        // pi/2 - 2 r
	VMOVAPD     Z14, K1, Z10         // where big
	VXORPD      Z5, Z4, Z11          // the sign of x
	VORPD       Z11, Z10, Z10        // asin(x)
	VFMADD213PD Z22, Z21, Z10        // A asin(x) + c²
	VMOVUPD     Z10, (SI)
	TESTQ       DI, DI
	JZ          enext
	VADDPD      Z0, Z0, Z11
	VADDPD      Z11, Z11, Z11        // 4 kk
	VMULPD      Z0, Z11, Z11         // 4 kk kk
	VSUBPD      Z11, Z1, Z11         // P - 4 kk²
	VMAXPD.BCST 128(R8), Z11, Z11    // max(., 1e-300)
	VSQRTPD     Z11, Z11
	VDIVPD      Z11, Z23, Z11        // D / sqrt(.)
	VMULPD      (DI), Z11, Z11
	VMOVUPD     Z11, (DI)
	ADDQ        $64, DI

enext:
	ADDQ $64, SI
	ADDQ R11, R9
	ADDQ $64, R10
	SUBQ $8, CX
	JNZ  eloop
	VZEROUPPER
	RET

// func erfAVX2(k, t, v1 *float64, v1step int, v2 *float64, n int, m *ErfMap, c *float64):
// erfAVX512 on four entries at a time; c is erfConst4 (every constant
// repeated four times, 32 bytes each); n a positive multiple of 4. Needs
// AVX2 and FMA.
TEXT ·erfAVX2(SB), NOSPLIT, $0-64
	MOVQ         k+0(FP), SI
	MOVQ         t+8(FP), DI
	MOVQ         v1+16(FP), R9
	MOVQ         v1step+24(FP), R11
	MOVQ         v2+32(FP), R10
	MOVQ         n+40(FP), CX
	MOVQ         m+48(FP), DX
	MOVQ         c+56(FP), R8
	VBROADCASTSD 0(DX), Y14          // b²
	VBROADCASTSD 24(DX), Y15         // D
	VBROADCASTSD (R9), Y12           // v1 for v1step 0
	VMOVUPD      416(R8), Y13        // 0.5
	SHLQ         $5, R11

floop:
	VMOVUPD (SI), Y0
	VMULPD  Y14, Y0, Y0              // kk
	VMOVAPD Y12, Y1
	TESTQ   R11, R11
	JZ      fv1
	VMOVUPD (R9), Y1

fv1:
	VMULPD    Y14, Y1, Y1
	VADDPD    Y1, Y1, Y1
	VADDPD    480(R8), Y1, Y1        // p1
	VMULPD    (R10), Y14, Y2
	VADDPD    Y2, Y2, Y2
	VADDPD    480(R8), Y2, Y2        // p2
	VMULPD    Y2, Y1, Y1             // P
	VSQRTPD   Y1, Y3
	VADDPD    Y0, Y0, Y4
	VDIVPD    Y3, Y4, Y4             // x
	VMAXPD    544(R8), Y4, Y4        // max(x, -1)
	VMINPD    480(R8), Y4, Y4        // min(x, 1)
	VANDPD    576(R8), Y4, Y5        // ax
	VCMPPD    $0x1e, Y13, Y5, Y8     // big: ax > 0.5
	VMULPD    Y5, Y5, Y7             // z = ax²
	VMOVUPD   480(R8), Y9
	VSUBPD    Y5, Y9, Y9
	VMULPD    Y13, Y9, Y9            // zb
	VBLENDVPD Y8, Y9, Y7, Y7         // z = zb where big
	VSQRTPD   Y9, Y9
	VBLENDVPD Y8, Y9, Y5, Y6         // y
	VMOVUPD   384(R8), Y10           // q = c12
	VFMADD213PD 352(R8), Y7, Y10
	VFMADD213PD 320(R8), Y7, Y10
	VFMADD213PD 288(R8), Y7, Y10
	VFMADD213PD 256(R8), Y7, Y10
	VFMADD213PD 224(R8), Y7, Y10
	VFMADD213PD 192(R8), Y7, Y10
	VFMADD213PD 160(R8), Y7, Y10
	VFMADD213PD 128(R8), Y7, Y10
	VFMADD213PD 96(R8), Y7, Y10
	VFMADD213PD 64(R8), Y7, Y10
	VFMADD213PD 32(R8), Y7, Y10
	VFMADD213PD 0(R8), Y7, Y10       // q(z)
	VMULPD    Y7, Y10, Y10
	VFMADD213PD Y6, Y6, Y10          // r = y + y z q
	VADDPD    Y10, Y10, Y11
	VMOVUPD   448(R8), Y9
	VSUBPD    Y11, Y9, Y9            // pi/2 - 2 r
	VBLENDVPD Y8, Y9, Y10, Y10
	VXORPD    Y5, Y4, Y11
	VORPD     Y11, Y10, Y10          // asin(x)
	VBROADCASTSD 8(DX), Y11
	VBROADCASTSD 16(DX), Y9
	VFMADD213PD Y9, Y11, Y10         // A asin(x) + c²
	VMOVUPD   Y10, (SI)
	TESTQ     DI, DI
	JZ        fnext
	VADDPD    Y0, Y0, Y11
	VADDPD    Y11, Y11, Y11
	VMULPD    Y0, Y11, Y11
	VSUBPD    Y11, Y1, Y11
	VMAXPD    512(R8), Y11, Y11
	VSQRTPD   Y11, Y11
	VDIVPD    Y11, Y15, Y11
	VMULPD    (DI), Y11, Y11
	VMOVUPD   Y11, (DI)
	ADDQ      $32, DI

fnext:
	ADDQ $32, SI
	ADDQ R11, R9
	ADDQ $32, R10
	SUBQ $4, CX
	JNZ  floop
	VZEROUPPER
	RET

// func signBitsAVX2(x *float32, bits *uint8, n int): bit i%8 of bits[i/8]
// = int32(x[i]) > 0; n a positive multiple of 8.
TEXT ·signBitsAVX2(SB), NOSPLIT, $0-24
	MOVQ x+0(FP), SI
	MOVQ bits+8(FP), DI
	MOVQ n+16(FP), CX
	VPXOR Y0, Y0, Y0

sbloop:
	VMOVDQU   (SI), Y1
	VPCMPGTD  Y0, Y1, Y1
	VMOVMSKPS Y1, AX
	MOVB      AL, (DI)
	ADDQ      $32, SI
	INCQ      DI
	SUBQ      $8, CX
	JNZ       sbloop
	VZEROUPPER
	RET

// func maskBitsAVX2(bits *uint8, d, o *float32, n int): o[i] = d[i] where
// bit i%8 of bits[i/8] is set, else 0; n a positive multiple of 8.
TEXT ·maskBitsAVX2(SB), NOSPLIT, $0-32
	MOVQ bits+0(FP), SI
	MOVQ d+8(FP), DX
	MOVQ o+16(FP), DI
	MOVQ n+24(FP), CX
	VMOVDQU ·bitLanes(SB), Y2

mbloop:
	MOVBLZX      (SI), AX
	VMOVD        AX, X1
	VPBROADCASTD X1, Y1
	VPAND        Y2, Y1, Y1
	VPCMPEQD     Y2, Y1, Y1
	VPAND        (DX), Y1, Y1
	VMOVDQU      Y1, (DI)
	INCQ         SI
	ADDQ         $32, DX
	ADDQ         $32, DI
	SUBQ         $8, CX
	JNZ          mbloop
	VZEROUPPER
	RET

// bitLanes holds 1 << lane in each of 8 int32 lanes.
DATA ·bitLanes+0(SB)/4, $1
DATA ·bitLanes+4(SB)/4, $2
DATA ·bitLanes+8(SB)/4, $4
DATA ·bitLanes+12(SB)/4, $8
DATA ·bitLanes+16(SB)/4, $16
DATA ·bitLanes+20(SB)/4, $32
DATA ·bitLanes+24(SB)/4, $64
DATA ·bitLanes+28(SB)/4, $128
GLOBL ·bitLanes(SB), RODATA|NOPTR, $32

// func reluArcCosRAVX512(k, t, v1, r1 *float64, step int, v2, r2 *float64, n int, scale float64, c *float64):
// the division-free arc-cosine map of ReLUArcCosR on eight entries at a
// time, the same operations as reluArcCosOneR (FMA where it uses
// math.FMA), blends by mask registers; t may be nil; n a positive multiple
// of 8; c is asinConst (8 bytes a constant, broadcast). step is 1 for
// vectors v1, r1, 0 for one *v1, *r1 for all entries. Needs AVX-512F and DQ.
TEXT ·reluArcCosRAVX512(SB), NOSPLIT, $0-80
	MOVQ         k+0(FP), SI
	MOVQ         t+8(FP), DI
	MOVQ         v1+16(FP), R9
	MOVQ         r1+24(FP), R12
	MOVQ         step+32(FP), R11
	MOVQ         v2+40(FP), R10
	MOVQ         r2+48(FP), R13
	MOVQ         n+56(FP), CX
	VBROADCASTSD scale+64(FP), Z15
	MOVQ         c+72(FP), R8
	VXORPD       Z14, Z14, Z14
	VBROADCASTSD (R9), Z12
	VBROADCASTSD (R12), Z13
	VBROADCASTSD 120(R8), Z16       // 2
	VBROADCASTSD 80(R8), Z21        // sin(pi/8)
	VBROADCASTSD 136(R8), Z22       // cos(pi/8)
	SHLQ         $6, R11

qloop:
	VMOVUPD (SI), Z0                // k
	TESTQ   R11, R11
	JNZ     qflat
	VMULPD  (R10), Z12, Z1          // P = v1 v2
	VMULPD  (R13), Z13, Z2          // q = r1 r2
	JMP     qmap

qflat:
	VMOVUPD (R9), Z1
	VMULPD  (R10), Z1, Z1
	VMOVUPD (R12), Z2
	VMULPD  (R13), Z2, Z2

qmap:
	ARCCOSR_AVX512((SI), qnext, (DI), (DI))
	ADDQ    $64, DI

qnext:
	ADDQ $64, SI
	ADDQ R11, R9
	ADDQ R11, R12
	ADDQ $64, R10
	ADDQ $64, R13
	SUBQ $8, CX
	JNZ  qloop
	VZEROUPPER
	RET

// func reluArcCosRAVX2(k, t, v1, r1 *float64, step int, v2, r2 *float64, n int, scale float64, c *float64):
// reluArcCosRAVX512 on four entries at a time, blends by VBLENDVPD; n a
// positive multiple of 4; c holds asinConst with every constant repeated
// four times (32 bytes each).
TEXT ·reluArcCosRAVX2(SB), NOSPLIT, $0-80
	MOVQ         k+0(FP), SI
	MOVQ         t+8(FP), DI
	MOVQ         v1+16(FP), R9
	MOVQ         r1+24(FP), R12
	MOVQ         step+32(FP), R11
	MOVQ         v2+40(FP), R10
	MOVQ         r2+48(FP), R13
	MOVQ         n+56(FP), CX
	VBROADCASTSD scale+64(FP), Y15
	MOVQ         c+72(FP), R8
	VXORPD       Y14, Y14, Y14
	VBROADCASTSD (R9), Y12
	VBROADCASTSD (R12), Y13
	SHLQ         $5, R11

ploop:
	VMOVUPD (SI), Y0           // k
	TESTQ   R11, R11
	JNZ     pflat
	VMULPD  (R10), Y12, Y1     // P = v1 v2
	VMULPD  (R13), Y13, Y2     // q = r1 r2
	JMP     pmap

pflat:
	VMOVUPD (R9), Y1
	VMULPD  (R10), Y1, Y1
	VMOVUPD (R12), Y2
	VMULPD  (R13), Y2, Y2

pmap:
	ARCCOSR_AVX2((SI), pnext, (DI), (DI))
	ADDQ    $32, DI

pnext:
	ADDQ $32, SI
	ADDQ R11, R9
	ADDQ R11, R12
	ADDQ $32, R10
	ADDQ $32, R13
	SUBQ $4, CX
	JNZ  ploop
	VZEROUPPER
	RET

// func pool2F64AVX2(out, r0, r1 *float64, inv float64, n int): Pool2F64 on
// four outputs at a time, n a positive multiple of 4. VHADDPD of r0[0:4]
// and r0[4:8] gives the cell sums of row r0 in the order 0, 2, 1, 3, as
// for r1; their sum, permuted back, is ((a + b) + (c + d)) per cell.
TEXT ·pool2F64AVX2(SB), NOSPLIT, $0-40
	MOVQ         out+0(FP), DI
	MOVQ         r0+8(FP), SI
	MOVQ         r1+16(FP), DX
	VBROADCASTSD inv+24(FP), Y2
	MOVQ         n+32(FP), CX

qloop:
	VMOVUPD (SI), Y0
	VHADDPD 32(SI), Y0, Y0 // r0 cells 0, 2, 1, 3
	VMOVUPD (DX), Y1
	VHADDPD 32(DX), Y1, Y1 // r1 cells 0, 2, 1, 3
	VADDPD  Y1, Y0, Y0
	VPERMPD $0xd8, Y0, Y0  // cells 0, 1, 2, 3
	VMULPD  Y2, Y0, Y0
	VMOVUPD Y0, (DI)
	ADDQ    $64, SI
	ADDQ    $64, DX
	ADDQ    $32, DI
	SUBQ    $4, CX
	JNZ     qloop
	VZEROUPPER
	RET
