//go:build amd64 && !purego

#include "textflag.h"
#include "arccos_amd64.h"

// SEPNEXT: prefetches the four rows of sepRowArgs.next at BX (a cache line
// of each; R14 and R15 hold the first two, the outputs' for writing).
// Writes CX. PREFETCHW, which Go's assembler lacks, is spelled in bytes
// (0F 0D /1); the AVX2 and FMA processors these kernels need execute it,
// or as a no-op (Intel before Broadwell), and it never faults.
#define SEPNEXT \
	PREFETCHT0 (R14)(BX*1)                           \
	PREFETCHT0 (R15)(BX*1)                           \
	MOVQ       256(DX), CX                           \
	BYTE $0x0F; BYTE $0x0D; BYTE $0x0C; BYTE $0x19 /* PREFETCHW (CX)(BX*1) */ \
	MOVQ       264(DX), CX                           \
	BYTE $0x0F; BYTE $0x0D; BYTE $0x0C; BYTE $0x19

// SEPFIRST_AVX512(skip) and SEPFIRST_AVX2(skip): the first pass of sepRow*
// on the entries at BX (8 or 4 of them): the row of L of K, then, unless DI
// is zero (else it jumps to skip), of Theta, from the row pointers in the
// argument block at DX (Sum3Mask's operations; the AVX-512 kernel's masks
// from the bits of sepRowArgs.m8, two bytes per block). Write CX, Z26/Z27
// and K5/K6 (AVX-512) or Y2-Y5 (AVX2).
#define SEPFIRST_AVX512(skip, gen, kdone) \
	SEPMASKS_AVX512                                       \
	MOVQ    288(DX), CX /* generated rows? */             \
	TESTQ   CX, CX                                        \
	JNZ     gen                                           \
	SEPSUMK_AVX512                                        \
	JMP     kdone                                         \
gen:                                                          \
	KMOVB   320(DX), K3 /* the rows not in the padding */ \
	KANDB   K3, K5, K3                                    \
	KMOVB   321(DX), K4                                   \
	KANDB   K4, K6, K4                                    \
	VBROADCASTSD 296(DX), Z26                             \
	VMULPD.Z -8(CX)(BX*1), Z26, K3, Z26 /* a0 x[i-1] & ma[i] */ \
	VBROADCASTSD 304(DX), Z27                             \
	VMULPD  (CX)(BX*1), Z27, Z27 /* a1 x[i] */            \
	VADDPD  Z27, Z26, Z26                                 \
	VBROADCASTSD 312(DX), Z27                             \
	VMULPD.Z 8(CX)(BX*1), Z27, K4, Z27 /* a2 x[i+1] & mc[i] */ \
	VADDPD  Z27, Z26, Z26                                 \
	VADDPD  Z14, Z26, Z26 /* a zero sum as +0 */          \
kdone:                                                        \
	SEPSTORELK_AVX512                                     \
	TESTQ   DI, DI                                        \
	JZ      skip                                          \
	CMPQ    280(DX), $0 /* Theta's inputs zero */         \
	JNE     skip                                          \
	SEPSUMT_AVX512

// The pieces of SEPFIRST_AVX512: the block's mask bits (K5, K6), the sum
// of K's three input rows (Z26), its store to the row of L, and Theta's
// sum and store.
#define SEPMASKS_AVX512 \
	MOVQ      BX, CX                                      \
	SARQ      $5, CX /* two mask bytes per block */       \
	ADDQ      272(DX), CX                                 \
	KMOVB     (CX), K5 /* ma */                           \
	KMOVB     1(CX), K6 /* mc */

#define SEPSUMK_AVX512 SEPSUM3_AVX512(96, 104, 112)

// SEPSUM3_AVX512(oa, ob, oc): Z26 = ((a[i-1] & ma[i]) + b[i]) +
// (c[i+1] & mc[i]) for the rows whose pointers are at offsets oa, ob, oc
// of the argument block.
#define SEPSUM3_AVX512(oa, ob, oc) \
	MOVQ    oa(DX), CX                                    \
	VMOVUPD.Z -8(CX)(BX*1), K5, Z26 /* a[i-1] & ma[i] */  \
	MOVQ    ob(DX), CX                                    \
	VADDPD  (CX)(BX*1), Z26, Z26 /* + b[i] */             \
	MOVQ    oc(DX), CX                                    \
	VMOVUPD.Z 8(CX)(BX*1), K6, Z27 /* c[i+1] & mc[i] */   \
	VADDPD  Z27, Z26, Z26

#define SEPSTORELK_AVX512 \
	MOVQ    80(DX), CX                                    \
	VMOVUPD Z26, (CX)(BX*1) /* L of K */

#define SEPSUMT_AVX512 \
	SEPSUM3_AVX512(120, 128, 136)                         \
	MOVQ    88(DX), CX                                    \
	VMOVUPD Z26, (CX)(BX*1) /* L of Theta */

#define SEPFIRST_AVX2(skip) \
	MOVQ       144(DX), CX                                \
	VMOVUPD    (CX)(BX*1), Y2 /* ma */                    \
	MOVQ       152(DX), CX                                \
	VMOVUPD    (CX)(BX*1), Y3 /* mc */                    \
	MOVQ       96(DX), CX                                 \
	VMASKMOVPD -8(CX)(BX*1), Y2, Y4 /* a[i-1] & ma[i] */  \
	MOVQ       104(DX), CX                                \
	VADDPD     (CX)(BX*1), Y4, Y4 /* + b[i] */            \
	MOVQ       112(DX), CX                                \
	VMASKMOVPD 8(CX)(BX*1), Y3, Y5 /* c[i+1] & mc[i] */   \
	VADDPD     Y5, Y4, Y4                                 \
	MOVQ       80(DX), CX                                 \
	VMOVUPD    Y4, (CX)(BX*1) /* L of K */                \
	TESTQ      DI, DI                                     \
	JZ         skip                                       \
	MOVQ       120(DX), CX                                \
	VMASKMOVPD -8(CX)(BX*1), Y2, Y4 /* a[i-1] & ma[i] */  \
	MOVQ       128(DX), CX                                \
	VADDPD     (CX)(BX*1), Y4, Y4 /* + b[i] */            \
	MOVQ       136(DX), CX                                \
	VMASKMOVPD 8(CX)(BX*1), Y3, Y5 /* c[i+1] & mc[i] */   \
	VADDPD     Y5, Y4, Y4                                 \
	MOVQ       88(DX), CX                                 \
	VMOVUPD    Y4, (CX)(BX*1) /* L of Theta */

// The kernels of Sum3AffineReLU: the second stencil pass of K and Theta
// (sum3AffineAVX2's operations) and the division-free arc-cosine map
// (reluArcCosRAVX512's and reluArcCosRAVX2's, one first variance for all
// entries) on a block of entries in registers; and of
// Sum3MaskAffineReLU, which runs the first pass (sum3MaskAVX2's
// operations) ahead of them in the same loop. Same operations, same
// order, same operand order as those kernels: the same bits (the map is
// their macro, ARCCOSR_AVX512 or ARCCOSR_AVX2 of arccos_amd64.h).

// The stages of sepRowAVX512's pipeline on the block at BX. The first
// (SEPSTAGE1(f, g, k, t, z), with its labels: SEPSTAGE1_FIRST, then
// SEPSTAGE1_SECOND, at the label z t = k + 0, then SEPSTAGE1_MAP): the
// first pass a lead ahead (unless BX has reached
// a.fend8) and the prefetch, the second step (k in Z0 and, unless DI is
// zero, t in Z19, from the rows of L of Theta unless a.zt says that
// Theta's inputs are zero (then it jumps to zero); add0 read from the
// argument block) and the map's
// first stage, from P = v1 v2 and q = r1 r2 (Z1, Z2). SEPSTAGE1_KEEP
// moves its values to Z6, Z7, Z12, Z13. SEPSTAGE2: the map's second
// stage on those, its values in Z24, Z28-Z31 and Z25.
#define SEPSTAGE1_FIRST(skip, gen, kdone) \
	CMPQ BX, 176(DX)                                       \
	JGE  skip                                              \
	SEPFIRST_AVX512(skip, gen, kdone)

#define SEPSTAGE1_SECOND(skip, zero) \
	SEPSECONDK                                             \
	TESTQ   DI, DI                                         \
	JZ      skip                                           \
	CMPQ    280(DX), $0                                    \
	JNE     zero                                           \
	SEPSECONDT

// The pieces of SEPSTAGE1_SECOND: the prefetch and K's second step (Z0),
// and Theta's (Z19).
#define SEPSECONDK \
	SEPNEXT                                                \
	VMOVUPD (AX)(BX*1), Z0                                 \
	VADDPD  (R9)(BX*1), Z0, Z0                             \
	VADDPD  (R10)(BX*1), Z0, Z0                            \
	VFMADD213PD.BCST 192(DX), Z23, Z0 /* k = nw ((ka + kb) + kc) + add0 */

#define SEPSECONDT \
	VMOVUPD (R11)(BX*1), Z19                               \
	VADDPD  (R12)(BX*1), Z19, Z19                          \
	VADDPD  (R13)(BX*1), Z19, Z19                          \
	VFMADD213PD Z0, Z23, Z19          /* t = nw ((ta + tb) + tc) + k */

#define SEPSTAGE1(f, g, k, t, z) \
	SEPSTAGE1_FIRST(f, g, k)                               \
f:                                                             \
	SEPSTAGE1_SECOND(t, z)                                 \
	JMP t                                                  \
z:                                                             \
	VADDPD Z14, Z0, Z19 /* Theta's inputs zero: t = k + 0 */ \
t:                                                             \
	SEPSTAGE1_MAP

#define SEPSTAGE1_MAP \
	MOVQ         64(DX), CX                                \
	VMULPD       (CX)(BX*1), Z10, Z1 /* P = v1 v2 (Z10 = v1) */ \
	MOVQ         72(DX), CX                                \
	VMULPD       (CX)(BX*1), Z11, Z2 /* q = r1 r2 (Z11 = r1) */ \
	ARCCOSR1_AVX512(Z0, Z1, Z2)

#define SEPSTAGE1_KEEP \
	VMOVAPD Z0, Z6                                         \
	VMOVAPD Z1, Z7                                         \
	VMOVAPD Z2, Z12                                        \
	VMOVAPD Z19, Z13

#define SEPSTAGE2 \
	ARCCOSR2_AVX512(Z6, Z7, Z12, Z29, Z30, Z31)            \
	VMOVAPD Z6, Z24                                        \
	VMOVAPD Z7, Z28                                        \
	VMOVAPD Z13, Z25

// The stages of sepRowAVX512's loop for its common case, the same
// instructions as SEPSTAGE1_FIRST and SEPSTAGE1_SECOND without the tests
// that case settles once per call: Theta present (DI not zero), its
// inputs stored (a.zt zero) and K's input rows read rather than
// generated (a.outer nil).
#define SEPSTAGE1_FIRST_COMMON(skip) \
	CMPQ      BX, 176(DX)                                 \
	JGE       skip                                        \
	SEPMASKS_AVX512                                       \
	SEPSUMK_AVX512                                        \
	SEPSTORELK_AVX512                                     \
	SEPSUMT_AVX512

#define SEPSTAGE1_SECOND_COMMON \
	SEPSECONDK                                             \
	SEPSECONDT

// func sum3AffineReLUAVX512(k, t, ka, kb, kc, ta, tb, tc *float64, n int, nw, add0, v1, r1 float64, v2, r2 *float64, scale float64, c *float64):
// eight entries at a time: k = nw*((ka + kb) + kc) + add0 and, unless
// t is nil, t = nw*((ta + tb) + tc) + k (FMA), then the map of
// reluArcCosRAVX512 on k and t; n a positive multiple of 8; c is asinConst
// (8 bytes a constant, broadcast). Needs AVX-512F and DQ.
TEXT ·sum3AffineReLUAVX512(SB), NOSPLIT, $0-136
	MOVQ         k+0(FP), SI
	MOVQ         t+8(FP), DI
	MOVQ         ka+16(FP), AX
	MOVQ         kb+24(FP), BX
	MOVQ         kc+32(FP), DX
	MOVQ         ta+40(FP), R9
	MOVQ         tb+48(FP), R10
	MOVQ         tc+56(FP), R11
	MOVQ         n+64(FP), CX
	VBROADCASTSD nw+72(FP), Z23
	VBROADCASTSD add0+80(FP), Z25
	VBROADCASTSD v1+88(FP), Z12
	VBROADCASTSD r1+96(FP), Z13
	MOVQ         v2+104(FP), R12
	MOVQ         r2+112(FP), R13
	VBROADCASTSD scale+120(FP), Z15
	MOVQ         c+128(FP), R8
	VXORPD       Z14, Z14, Z14
	VBROADCASTSD 120(R8), Z16       // 2
	VBROADCASTSD 80(R8), Z21        // sin(pi/8)
	VBROADCASTSD 136(R8), Z22       // cos(pi/8)

uloop:
	VMOVUPD (AX), Z0
	VADDPD  (BX), Z0, Z0
	VADDPD  (DX), Z0, Z0
	VFMADD213PD Z25, Z23, Z0        // Z0 = k = nw ((ka + kb) + kc) + add0
	TESTQ   DI, DI
	JZ      umap
	VMOVUPD (R9), Z19
	VADDPD  (R10), Z19, Z19
	VADDPD  (R11), Z19, Z19
	VFMADD213PD Z0, Z23, Z19        // Z19 = t = nw ((ta + tb) + tc) + k

umap:
	VMULPD  (R12), Z12, Z1          // P = v1 v2
	VMULPD  (R13), Z13, Z2          // q = r1 r2
	ARCCOSR_AVX512((SI), unext, Z19, (DI))
	ADDQ    $64, DI
	ADDQ    $64, R9
	ADDQ    $64, R10
	ADDQ    $64, R11

unext:
	ADDQ $64, SI
	ADDQ $64, AX
	ADDQ $64, BX
	ADDQ $64, DX
	ADDQ $64, R12
	ADDQ $64, R13
	SUBQ $8, CX
	JNZ  uloop
	VZEROUPPER
	RET

// func sum3AffineReLUAVX2(k, t, ka, kb, kc, ta, tb, tc *float64, n int, nw, add0, v1, r1 float64, v2, r2 *float64, scale float64, c *float64):
// sum3AffineReLUAVX512 on four entries at a time, the map of
// reluArcCosRAVX2 (t before the map is kept in t, as the three calls
// leave it there: the map needs all sixteen registers); n a positive
// multiple of 4; c holds asinConst with every constant repeated four times
// (32 bytes each).
TEXT ·sum3AffineReLUAVX2(SB), NOSPLIT, $0-136
	MOVQ         k+0(FP), SI
	MOVQ         t+8(FP), DI
	MOVQ         ka+16(FP), AX
	MOVQ         kb+24(FP), BX
	MOVQ         kc+32(FP), DX
	MOVQ         ta+40(FP), R9
	MOVQ         tb+48(FP), R10
	MOVQ         tc+56(FP), R11
	MOVQ         n+64(FP), CX
	VBROADCASTSD v1+88(FP), Y12
	VBROADCASTSD r1+96(FP), Y13
	MOVQ         v2+104(FP), R12
	MOVQ         r2+112(FP), R13
	VBROADCASTSD scale+120(FP), Y15
	MOVQ         c+128(FP), R8
	VXORPD       Y14, Y14, Y14

vloop:
	VBROADCASTSD nw+72(FP), Y2
	VBROADCASTSD add0+80(FP), Y4
	VMOVUPD (AX), Y0
	VADDPD  (BX), Y0, Y0
	VADDPD  (DX), Y0, Y0
	VFMADD213PD Y4, Y2, Y0     // Y0 = k = nw ((ka + kb) + kc) + add0
	TESTQ   DI, DI
	JZ      vmap
	VMOVUPD (R9), Y1
	VADDPD  (R10), Y1, Y1
	VADDPD  (R11), Y1, Y1
	VFMADD213PD Y0, Y2, Y1     // t = nw ((ta + tb) + tc) + k
	VMOVUPD Y1, (DI)

vmap:
	VMULPD  (R12), Y12, Y1     // P = v1 v2
	VMULPD  (R13), Y13, Y2     // q = r1 r2
	ARCCOSR_AVX2((SI), vnext, (DI), (DI))
	ADDQ    $32, DI
	ADDQ    $32, R9
	ADDQ    $32, R10
	ADDQ    $32, R11

vnext:
	ADDQ $32, SI
	ADDQ $32, AX
	ADDQ $32, BX
	ADDQ $32, DX
	ADDQ $32, R12
	ADDQ $32, R13
	SUBQ $4, CX
	JNZ  vloop
	VZEROUPPER
	RET


// func sepRowAVX512(a *sepRowArgs): the first pass of a separable 3×3 map
// (a row of L of K and, unless t is nil, Theta: Sum3MaskRow, with masked
// loads for the and-ed terms, so that the masks must be zero at the row
// ends) run a.lead8/8 entries ahead of sum3AffineReLUAVX512's second
// step and map, eight entries at a time; the first pass's pointers are
// advanced by the lead; with a.plain set, the second step without the
// map. The same operations as the calls in sequence. Each block of the
// second step prefetches a cache line of the four rows of a.next at its
// offset (SEPNEXT). Needs AVX-512F and DQ, and rows of at least 16
// entries.
//
// The map's three stages (arccos_amd64.h) are software-pipelined: one
// trip of the loop runs the second step and the map's first stage on the
// block at BX (SEPSTAGE1), the third stage of the block at BX-128 and
// the second stage of the block at BX-64, so that the latencies of one
// block's square root and polynomial overlap the other blocks' work
// rather than wait in the out-of-order window. Between the stages a
// block's values are in Z6 (k), Z7 (sq), Z12 (q), Z13 (t) after the
// first and Z24 (k), Z28 (sq), Z29 (x), Z30 (m), Z31 (z), Z25 (t) after
// the second. About 30 % less time per entry for the map than the
// stages in sequence on a Zen 5, and the same bits. The loop has a copy
// for the common case (Theta present, its inputs stored, K's input rows
// read: SEPSTAGE1_FIRST_COMMON, SEPSTAGE1_SECOND_COMMON, ARCCOSR3T_AVX512)
// without the six tests per block that settle once per call: 3-6 % less
// time per entry in the cache.
TEXT ·sepRowAVX512(SB), NOSPLIT, $0-8
	MOVQ         a+0(FP), DX
	MOVQ         0(DX), SI          // k
	MOVQ         8(DX), DI          // t
	MOVQ         16(DX), AX         // ka
	MOVQ         24(DX), R9         // kb
	MOVQ         32(DX), R10        // kc
	MOVQ         40(DX), R11        // ta
	MOVQ         48(DX), R12        // tb
	MOVQ         56(DX), R13        // tc
	VBROADCASTSD 184(DX), Z23       // nw
	VBROADCASTSD 216(DX), Z15       // scale
	MOVQ         224(DX), R8        // asinConst
	MOVQ         240(DX), R14       // next
	MOVQ         248(DX), R15
	VXORPD       Z14, Z14, Z14
	VBROADCASTSD 120(R8), Z16       // 2
	VBROADCASTSD 80(R8), Z21        // sin(pi/8)
	VBROADCASTSD 136(R8), Z22       // cos(pi/8)
	VBROADCASTSD 200(DX), Z10       // v1 (SEPSTAGE1_MAP)
	VBROADCASTSD 208(DX), Z11       // r1

	// The first pass on the first lead entries (BX from -lead8 to 0).
	MOVQ 168(DX), BX
	NEGQ BX
	JZ   wpro2                      // no lead: no first pass (Sum3AffineReLU)

wpro:
	SEPFIRST_AVX512(wpro1, wprog, wprok)

wpro1:
	ADDQ $64, BX
	JNZ  wpro

wpro2:
	CMPQ 232(DX), $0
	JNE  wplain

	// The blocks at 0 and 64: the pipeline fills.
	SEPSTAGE1(wf0, wg0, wk0, wt0, wz0)
	SEPSTAGE1_KEEP
	ADDQ $64, BX
	SEPSTAGE1(wf1, wg1, wk1, wt1, wz1)
	SEPSTAGE2
	SEPSTAGE1_KEEP
	ADDQ $64, BX
	CMPQ BX, 160(DX)
	JAE  wdrain
	TESTQ DI, DI                    // the common case? (SEPSTAGE1_FIRST_COMMON)
	JZ    wloop
	CMPQ  280(DX), $0
	JNE   wloop
	CMPQ  288(DX), $0
	JNE   wloop

wcloop:
	SEPSTAGE1_FIRST_COMMON(wcf)

wcf:
	SEPSTAGE1_SECOND_COMMON
	SEPSTAGE1_MAP
	ARCCOSR3T_AVX512(Z24, Z28, Z29, Z30, Z31, -128(SI)(BX*1), Z25, -128(DI)(BX*1))
	SEPSTAGE2
	SEPSTAGE1_KEEP
	ADDQ $64, BX
	CMPQ BX, 160(DX)
	JB   wcloop
	JMP  wdrain

wloop:
	SEPSTAGE1(wf2, wg2, wk2, wt2, wz2)
	ARCCOSR3_AVX512(Z24, Z28, Z29, Z30, Z31, -128(SI)(BX*1), wt3, Z25, -128(DI)(BX*1))

wt3:
	SEPSTAGE2
	SEPSTAGE1_KEEP
	ADDQ $64, BX
	CMPQ BX, 160(DX)
	JB   wloop

wdrain:
	// The last two blocks' remaining stages.
	ARCCOSR3_AVX512(Z24, Z28, Z29, Z30, Z31, -128(SI)(BX*1), wt4, Z25, -128(DI)(BX*1))

wt4:
	SEPSTAGE2
	ARCCOSR3_AVX512(Z24, Z28, Z29, Z30, Z31, -64(SI)(BX*1), wdone, Z25, -64(DI)(BX*1))

wdone:
	VZEROUPPER
	RET

wplain:
	// No map (a.plain): the second step alone.
	VBROADCASTSD 192(DX), Z25       // add0

wploop:
	CMPQ BX, 176(DX)
	JGE  wpsecond
	SEPFIRST_AVX512(wpsecond, wpg, wpk)

wpsecond:
	SEPNEXT
	VMOVUPD (AX)(BX*1), Z0
	VADDPD  (R9)(BX*1), Z0, Z0
	VADDPD  (R10)(BX*1), Z0, Z0
	VFMADD213PD Z25, Z23, Z0        // Z0 = k = nw ((ka + kb) + kc) + add0
	VMOVUPD Z0, (SI)(BX*1)
	TESTQ   DI, DI
	JZ      wpnext
	VMOVUPD (R11)(BX*1), Z19
	VADDPD  (R12)(BX*1), Z19, Z19
	VADDPD  (R13)(BX*1), Z19, Z19
	VFMADD213PD Z0, Z23, Z19        // Z19 = t = nw ((ta + tb) + tc) + k
	VMOVUPD Z19, (DI)(BX*1)

wpnext:
	ADDQ $64, BX
	CMPQ BX, 160(DX)
	JB   wploop
	VZEROUPPER
	RET

// func firstRowAVX512(a *sepRowArgs): sepRowAVX512's first pass alone on
// a whole row (FirstPass.Run): the rows of L of K and, unless a.t is nil,
// Theta, a.n8 bytes, eight entries at a time (SEPFIRST_AVX512, the
// pointers not advanced by a lead; a.outer nil, a.zt zero). Needs
// AVX-512F and DQ.
TEXT ·firstRowAVX512(SB), NOSPLIT, $0-8
	MOVQ   a+0(FP), DX
	MOVQ   8(DX), DI                // Theta's rows unless nil
	VXORPD Z14, Z14, Z14
	XORQ   BX, BX

floop:
	SEPFIRST_AVX512(fnext, fgen, fkdone)

fnext:
	ADDQ $64, BX
	CMPQ BX, 160(DX)
	JB   floop
	VZEROUPPER
	RET

// func sepRowAVX2(a *sepRowArgs): sepRowAVX512 on four entries at a time,
// the masked loads by VMASKMOVPD (the masks' sign bits), the second step
// and map of sum3AffineReLUAVX2 (t before the map kept in t); c is
// asinConst4.
TEXT ·sepRowAVX2(SB), NOSPLIT, $0-8
	MOVQ         a+0(FP), DX
	MOVQ         0(DX), SI          // k
	MOVQ         8(DX), DI          // t
	MOVQ         16(DX), AX         // ka
	MOVQ         24(DX), R9         // kb
	MOVQ         32(DX), R10        // kc
	MOVQ         40(DX), R11        // ta
	MOVQ         48(DX), R12        // tb
	MOVQ         56(DX), R13        // tc
	VBROADCASTSD 200(DX), Y12       // v1
	VBROADCASTSD 208(DX), Y13       // r1
	VBROADCASTSD 216(DX), Y15       // scale
	MOVQ         224(DX), R8        // asinConst4
	MOVQ         240(DX), R14       // next
	MOVQ         248(DX), R15
	VXORPD       Y14, Y14, Y14

	// The first pass on the first lead entries (BX from -lead8 to 0).
	MOVQ 168(DX), BX
	NEGQ BX

xpro:
	SEPFIRST_AVX2(xpro1)

xpro1:
	ADDQ $32, BX
	JNZ  xpro

xloop:
	CMPQ BX, 176(DX)
	JGE  xsecond
	SEPFIRST_AVX2(xfirst1)

xfirst1:

xsecond:
	SEPNEXT
	VBROADCASTSD 184(DX), Y2        // nw
	VBROADCASTSD 192(DX), Y4        // add0
	VMOVUPD (AX)(BX*1), Y0
	VADDPD  (R9)(BX*1), Y0, Y0
	VADDPD  (R10)(BX*1), Y0, Y0
	VFMADD213PD Y4, Y2, Y0     // Y0 = k = nw ((ka + kb) + kc) + add0
	TESTQ   DI, DI
	JZ      xmap
	VMOVUPD (R11)(BX*1), Y1
	VADDPD  (R12)(BX*1), Y1, Y1
	VADDPD  (R13)(BX*1), Y1, Y1
	VFMADD213PD Y0, Y2, Y1     // t = nw ((ta + tb) + tc) + k
	VMOVUPD Y1, (DI)(BX*1)

xmap:
	CMPQ    232(DX), $0
	JNE     xplain
	MOVQ    64(DX), CX
	VMULPD  (CX)(BX*1), Y12, Y1 // P = v1 v2
	MOVQ    72(DX), CX
	VMULPD  (CX)(BX*1), Y13, Y2 // q = r1 r2
	ARCCOSR_AVX2((SI)(BX*1), xnext, (DI)(BX*1), (DI)(BX*1))
	JMP     xnext

xplain:
	VMOVUPD Y0, (SI)(BX*1)     // no map (a.plain; t is stored)

xnext:
	ADDQ $32, BX
	CMPQ BX, 160(DX)
	JB   xloop
	VZEROUPPER
	RET
