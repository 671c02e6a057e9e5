// The division-free arc-cosine map of ReLUArcCosR (reluArcCosOneR's
// operations, FMA where it uses math.FMA), shared by reluArcCosRAVX2 and
// reluArcCosRAVX512 (vec_amd64.s) and by the fused kernels sum3AffineReLU*
// and sepRow* (fused_amd64.s): one instruction sequence, so the same bits.
// Each macro starts once k, P = v1 v2 and q = r1 r2 are in registers and
// ends with the stores; the loads of P and q, the pointer steps and the
// loop stay in the kernels. Comments inside the macros are /* */ (a //
// comment would swallow the line's backslash).

// ARCCOSR_AVX2(kdst, tnil, tsrc, tdst): the map on four entries.
// Reads Y0 = k, Y1 = P, Y2 = q, Y14 = 0, Y15 = scale, R8 = asinConst4
// (asinConst with every constant repeated four times, 32 bytes each) and
// DI (t, tested for nil). Stores (sq + kd k) scale to kdst; then, unless
// DI is zero (else it jumps to tnil), kd scale tsrc to tdst, tsrc being t
// before the map (a memory operand). Writes Y1-Y11 and the flags, no
// other register.
#define ARCCOSR_AVX2(kdst, tnil, tsrc, tdst) \
	VMULPD  Y0, Y0, Y3                                               \
	VSUBPD  Y3, Y1, Y1                                               \
	VMAXPD  Y14, Y1, Y1        /* d = max(P - k², 0) */              \
	VSQRTPD Y1, Y1             /* Y1 = sq */                         \
	VMINPD  448(R8), Y2, Y2    /* q < max ? q : max */               \
	VMULPD  Y2, Y1, Y4         /* Y4 = s = sq q */                   \
	VMULPD  Y2, Y0, Y5         /* Y5 = ck = k q */                   \
	VCMPPD  $0x12, 320(R8), Y4, Y8 /* Y8 = axis: s <= sin(pi/8) */   \
	VCMPPD  $0x1d, 544(R8), Y4, Y9 /* Y9 = mid: s >= cos(pi/8) */    \
	VANDPD  576(R8), Y0, Y7    /* Y7 = sign of k */                  \
	VANDNPD 576(R8), Y0, Y6    /* sign of -k */                      \
	VORPD   Y6, Y4, Y4         /* Y4 = nsk: s with the sign of -k */ \
	VADDPD  Y4, Y5, Y10                                              \
	VMULPD  352(R8), Y10, Y10  /* x = (ck + nsk)/sqrt 2 */           \
	VBLENDVPD Y9, Y5, Y10, Y10 /* mid: x = ck */                     \
	VBLENDVPD Y8, Y4, Y10, Y10 /* axis: x = nsk */                   \
	VANDNPD 512(R8), Y9, Y6    /* e = 1, 0 where mid */              \
	VANDPD  512(R8), Y8, Y2                                          \
	VADDPD  Y2, Y6, Y6         /* e = 2 where axis */                \
	VORPD   Y7, Y6, Y6                                               \
	VADDPD  480(R8), Y6, Y11   /* Y11 = m = 2 ± e = 4 - j */         \
	VMULPD  Y10, Y10, Y3       /* Y3 = z */                          \
	VMULPD  Y3, Y3, Y8         /* z² */                              \
	VMOVUPD 32(R8), Y9                                               \
	VFMADD213PD 0(R8), Y3, Y9  /* q0 = c1 z + c0 */                  \
	VMOVUPD 96(R8), Y4                                               \
	VFMADD213PD 64(R8), Y3, Y4 /* q1 */                              \
	VFMADD231PD Y8, Y4, Y9     /* r0 = q1 z² + q0 */                 \
	VMOVUPD 160(R8), Y4                                              \
	VFMADD213PD 128(R8), Y3, Y4 /* q2 */                             \
	VMOVUPD 224(R8), Y5                                              \
	VFMADD213PD 192(R8), Y3, Y5 /* q3 */                             \
	VFMADD231PD Y8, Y5, Y4     /* r1 = q3 z² + q2 */                 \
	VMOVUPD 288(R8), Y5                                              \
	VFMADD213PD 256(R8), Y3, Y5 /* q4 = c9 z + c8 */                 \
	VMULPD  Y8, Y8, Y7         /* z⁴ */                              \
	VFMADD231PD Y7, Y4, Y9     /* s0 = r1 z⁴ + r0 */                 \
	VMULPD  Y7, Y7, Y7         /* z⁸ */                              \
	VFMADD231PD Y7, Y5, Y9     /* Y9 = p(z) = q4 z⁸ + s0 (Estrin) */ \
	VMULPD  Y3, Y9, Y8         /* z p */                             \
	VFMADD213PD Y10, Y10, Y8   /* Y8 = y = x + x z p = asin(x) */    \
	VFMADD231PD 416(R8), Y11, Y8 /* m lo + y */                      \
	VFMADD231PD 384(R8), Y11, Y8 /* Y8 = kd = m hi + (m lo + y) */   \
	VFMADD231PD Y8, Y0, Y1     /* sq + kd k */                       \
	VMULPD  Y15, Y1, Y1        /* (sq + kd k) scale */               \
	VMOVUPD Y1, kdst                                                 \
	TESTQ   DI, DI             /* t nil? */                          \
	JZ      tnil                                                     \
	VMULPD  Y15, Y8, Y8                                              \
	VMULPD  tsrc, Y8, Y8       /* kd scale t */                      \
	VMOVUPD Y8, tdst

// ARCCOSR_AVX512(kdst, tnil, tsrc, tdst): ARCCOSR_AVX2 on eight entries,
// blends by mask registers. Reads Z0 = k, Z1 = P, Z2 = q, Z14 = 0,
// Z15 = scale, Z16 = 2, Z21 = sin(pi/8), Z22 = cos(pi/8), R8 = asinConst
// (8 bytes a constant, broadcast) and DI (t, tested for nil). Stores
// (sq + kd k) scale to kdst; then, unless DI is zero (else it jumps to
// tnil), kd scale tsrc to tdst, tsrc being t before the map (a register
// or memory operand). Writes Z1-Z5, Z8-Z11, Z17, Z18, Z20, K1, K2 and the
// flags, no other register. Needs AVX-512F and DQ. It is its three
// stages in sequence: ARCCOSR1_AVX512 (up to the square root),
// ARCCOSR2_AVX512 (the octant reduction) and ARCCOSR3_AVX512 (the
// polynomial and the stores), which a kernel may also interleave across
// blocks of entries (sepRowAVX512: the same instructions on each block,
// so the same bits).
#define ARCCOSR_AVX512(kdst, tnil, tsrc, tdst) \
	ARCCOSR1_AVX512(Z0, Z1, Z2)                                                 \
	ARCCOSR2_AVX512(Z0, Z1, Z2, Z10, Z11, Z3)                                   \
	ARCCOSR3_AVX512(Z0, Z1, Z10, Z11, Z3, kdst, tnil, tsrc, tdst)

// ARCCOSR1_AVX512(k, d, q): the first stage: k as k, d = P on entry, the
// square root sq of max(P - k², 0) on exit; q clamped. Writes Z3.
#define ARCCOSR1_AVX512(k, d, q) \
	VMULPD  k, k, Z3                                                            \
	VSUBPD  Z3, d, d                                                            \
	VMAXPD  Z14, d, d               /* d = max(P - k², 0) */                    \
	VSQRTPD d, d                    /* sq */                                    \
	VMINPD.BCST 112(R8), q, q       /* q < max ? q : max */

// ARCCOSR2_AVX512(k, sq, q, x, m, z): the second stage: from k, sq and q,
// the reduced argument x, m = 4 - j and z = x². Writes Z4, Z5, K1 and K2.
#define ARCCOSR2_AVX512(k, sq, q, x, m, z) \
	VMULPD  q, sq, Z4               /* Z4 = s = sq q */                         \
	VMULPD  q, k, Z5                /* Z5 = ck = k q */                         \
	VCMPPD  $0x12, Z21, Z4, K1      /* K1 = axis: s <= sin(pi/8) */             \
	VCMPPD  $0x1d, Z22, Z4, K2      /* K2 = mid: s >= cos(pi/8) */              \
	VPTERNLOGQ.BCST $0xf2, 144(R8), k, Z4 /* Z4 = nsk = s | (^k & sign bit) */  \
	VADDPD  Z4, Z5, x                                                           \
	VMULPD.BCST 88(R8), x, x        /* x = (ck + nsk)/sqrt 2 */                 \
	VMOVAPD Z5, K2, x               /* mid: x = ck */                           \
	VMOVAPD Z4, K1, x               /* axis: x = nsk */                         \
	VBROADCASTSD 128(R8), m         /* e = 1 */                                 \
	VMOVAPD Z14, K2, m              /* mid: e = 0 */                            \
	VMOVAPD Z16, K1, m              /* axis: e = 2 */                           \
	VPTERNLOGQ.BCST $0xf8, 144(R8), k, m /* e | (k & sign bit) */               \
	VADDPD  Z16, m, m               /* m = 2 ± e = 4 - j */                     \
	VMULPD  x, x, z                 /* z */

// ARCCOSR3_AVX512(k, sq, x, m, z, kdst, tnil, tsrc, tdst): the third
// stage: asin(x) by the polynomial in z, kd, and the stores (those of
// ARCCOSR_AVX512). Writes sq, Z8, Z9, Z17, Z18 and Z20.
#define ARCCOSR3_AVX512(k, sq, x, m, z, kdst, tnil, tsrc, tdst) \
	ARCCOSR3K_AVX512(k, sq, x, m, z, kdst)                                      \
	TESTQ   DI, DI                  /* t nil? */                                \
	JZ      tnil                                                                \
	ARCCOSR3TT_AVX512(tsrc, tdst)

// ARCCOSR3T_AVX512(k, sq, x, m, z, kdst, tsrc, tdst): ARCCOSR3_AVX512
// where t is known not to be nil (sepRowAVX512's loop for the common
// case): the same instructions without the test of DI.
#define ARCCOSR3T_AVX512(k, sq, x, m, z, kdst, tsrc, tdst) \
	ARCCOSR3K_AVX512(k, sq, x, m, z, kdst)                                      \
	ARCCOSR3TT_AVX512(tsrc, tdst)

// ARCCOSR3K_AVX512(k, sq, x, m, z, kdst): the third stage up to K's
// store, kd left in Z8; ARCCOSR3TT_AVX512(tsrc, tdst): Theta's store.
#define ARCCOSR3K_AVX512(k, sq, x, m, z, kdst) \
	VMULPD  z, z, Z8                /* z² */                                    \
	VBROADCASTSD 8(R8), Z9                                                      \
	VFMADD213PD.BCST 0(R8), z, Z9   /* q0 = c1 z + c0 */                        \
	VBROADCASTSD 24(R8), Z17                                                    \
	VFMADD213PD.BCST 16(R8), z, Z17 /* q1 */                                    \
	VFMADD231PD Z8, Z17, Z9         /* r0 = q1 z² + q0 */                       \
	VBROADCASTSD 40(R8), Z17                                                    \
	VFMADD213PD.BCST 32(R8), z, Z17 /* q2 */                                    \
	VBROADCASTSD 56(R8), Z18                                                    \
	VFMADD213PD.BCST 48(R8), z, Z18 /* q3 */                                    \
	VFMADD231PD Z8, Z18, Z17        /* r1 = q3 z² + q2 */                       \
	VBROADCASTSD 72(R8), Z18                                                    \
	VFMADD213PD.BCST 64(R8), z, Z18 /* q4 = c9 z + c8 */                        \
	VMULPD  Z8, Z8, Z20             /* z⁴ */                                    \
	VFMADD231PD Z20, Z17, Z9        /* s0 = r1 z⁴ + r0 */                       \
	VMULPD  Z20, Z20, Z20           /* z⁸ */                                    \
	VFMADD231PD Z20, Z18, Z9        /* Z9 = p(z) = q4 z⁸ + s0 (Estrin) */       \
	VMULPD  z, Z9, Z8               /* z p */                                   \
	VFMADD213PD x, x, Z8            /* Z8 = y = x + x z p = asin(x) */          \
	VFMADD231PD.BCST 104(R8), m, Z8 /* m lo + y */                              \
	VFMADD231PD.BCST 96(R8), m, Z8  /* Z8 = kd = m hi + (m lo + y) */           \
	VFMADD231PD Z8, k, sq           /* sq + kd k */                             \
	VMULPD  Z15, sq, sq             /* (sq + kd k) scale */                     \
	VMOVUPD sq, kdst

#define ARCCOSR3TT_AVX512(tsrc, tdst) \
	VMULPD  Z15, Z8, Z8                                                         \
	VMULPD  tsrc, Z8, Z8            /* kd scale t */                            \
	VMOVUPD Z8, tdst
