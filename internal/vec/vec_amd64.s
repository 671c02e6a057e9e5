//go:build amd64 && !purego

#include "textflag.h"

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
