# Regenerates the NumPy-written fixtures the npy tests read without Python:
#   python3 make_fixtures.py
# Values are chosen so the Go test can recompute them: element i of every
# array is i (or i/4 for floats, i-3 for signed integers).
import numpy as np
from numpy.lib import format as fmt

def arr(shape, dtype):
    n = int(np.prod(shape))
    kind = np.dtype(dtype).kind
    if kind == 'f':
        v = np.arange(n) / 4
    elif kind == 'i':
        v = np.arange(n) - 3
    else:
        v = np.arange(n) % 256
    return v.astype(dtype).reshape(shape)

np.save('f4_2x3.npy', arr((2, 3), '<f4'))
np.save('f8_scalar.npy', arr((), '<f8'))
np.save('i4_empty.npy', arr((0, 3), '<i4'))
np.save('i8_big_endian.npy', arr((5,), '>i8'))
np.save('u1_2x2x2.npy', arr((2, 2, 2), '|u1'))
np.save('f4_big_endian.npy', arr((4,), '>f4'))
with open('f8_v2.npy', 'wb') as f:
    fmt.write_array(f, arr((3, 1), '<f8'), version=(2, 0))
with open('i4_v3.npy', 'wb') as f:
    fmt.write_array(f, arr((2, 2), '<i4'), version=(3, 0))
np.save('fortran.npy', np.asfortranarray(arr((2, 3), '<f4')))
np.save('bool.npy', np.array([True, False]))
np.savez('stored.npz', images=arr((2, 3, 3), '|u1'), labels=arr((2, 1), '<i8'))
np.savez_compressed('deflated.npz', x=arr((4, 2), '<f4'), y=arr((4,), '<f8'))
