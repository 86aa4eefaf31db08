//! The weight gradient of a stride-1 convolution as five (or `kh`) matrix products per image
//! over shifted rows of the padded input, with no im2col copy.
//!
//! With the image padded to width `wp` and channels last, the input pixel that kernel tap
//! `(ky, kx)` multiplies with output `(oy, ox)` sits at row `(oy + ky)·wp + ox + kx` of the
//! padded image read as a `[pixels, channels]` matrix. Give the output gradient the same row
//! width (zero columns `ow..wp`), and for each `ky` the gradient of taps `(ky, all kx, all c)`
//! is one product `Xᵀ·dY` in which `X` is a window of `kw·C` consecutive values per row,
//! rows `C` apart: overlapping rows of the padded image, read in place. An image of the
//! study's second layer (64 -> 64, 5x5, 48x48) needs two padded copies of 0.7 MB, which stay
//! in cache, where im2col would write 15 MB.

use rayon::prelude::*;

/// Values of a 4-D tensor `[N, C, H, W]` and the step, in values, along each dimension.
#[derive(Debug, Clone, Copy)]
pub struct Strided<'a> {
    pub values: &'a [f32],
    pub strides: [usize; 4],
}

impl Strided<'_> {
    fn at(&self, n: usize, c: usize, y: usize, x: usize) -> f32 {
        let [sn, sc, sy, sx] = self.strides;
        self.values[n * sn + c * sc + y * sy + x * sx]
    }

    /// Copies the `[H, W, C]` pixels of image `n` into rows of `row_width` pixels of
    /// `out`, starting at pixel `(top, left)`.
    fn copy_channels_last(&self, n: usize, dims: [usize; 3], out: &mut [f32], at: Placement) {
        let [channels, height, width] = dims;
        let [_, sc, sy, sx] = self.strides;
        for y in 0..height {
            let row =
                &mut out[((y + at.top) * at.row_width + at.left) * channels..][..width * channels];
            if sc == 1 && sx == channels {
                let start = n * self.strides[0] + y * sy;
                row.copy_from_slice(&self.values[start..start + width * channels]);
            } else {
                for (x, pixel) in row.chunks_exact_mut(channels).enumerate() {
                    for (c, value) in pixel.iter_mut().enumerate() {
                        *value = self.at(n, c, y, x);
                    }
                }
            }
        }
    }
}

/// Where an image goes in a wider buffer.
#[derive(Debug, Clone, Copy)]
struct Placement {
    top: usize,
    left: usize,
    row_width: usize,
}

/// A stride-1, undilated, ungrouped 2-D convolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConvShape {
    pub images: usize,
    pub channels: usize,
    pub height: usize,
    pub width: usize,
    pub outputs: usize,
    pub kernel: [usize; 2],
    /// Zeros on each side, top and bottom then left and right.
    pub padding: [usize; 2],
}

impl ConvShape {
    fn padded(&self) -> [usize; 2] {
        [
            self.height + 2 * self.padding[0],
            self.width + 2 * self.padding[1],
        ]
    }

    /// Output height and width.
    pub fn output(&self) -> [usize; 2] {
        let [hp, wp] = self.padded();
        [hp + 1 - self.kernel[0], wp + 1 - self.kernel[1]]
    }
}

/// `dW[o, c, ky, kx] = Σ_{n, oy, ox} dY[n, o, oy, ox] · X[n, c, oy + ky - ph, ox + kx - pw]`,
/// `[O, C, KH, KW]` in row-major order: the images split between rayon's threads.
///
/// ```
/// use fer::kernels::weight_gradient::{conv2d_weight_gradient, ConvShape, Strided};
/// // One 2x2 image of one channel, a 1x1 kernel, an output gradient of ones: the weight's
/// // gradient is the sum of the image.
/// let shape = ConvShape {
///     images: 1, channels: 1, height: 2, width: 2, outputs: 1, kernel: [1, 1], padding: [0, 0],
/// };
/// let x = Strided { values: &[1.0, 2.0, 3.0, 4.0], strides: [4, 4, 2, 1] };
/// let dy = Strided { values: &[1.0; 4], strides: [4, 4, 2, 1] };
/// assert_eq!(conv2d_weight_gradient(x, dy, &shape), [10.0]);
/// ```
///
/// # Panics
/// When the kernel is larger than the padded image, or `x` or `dy` holds fewer values than
/// its shape and strides reach.
pub fn conv2d_weight_gradient(x: Strided, dy: Strided, shape: &ConvShape) -> Vec<f32> {
    let ConvShape {
        images,
        channels,
        height,
        width,
        outputs,
        kernel: [kh, kw],
        padding: [ph, pw],
    } = *shape;
    let [hp, wp] = shape.padded();
    assert!(
        kh <= hp && kw <= wp,
        "kernel {kh}x{kw} over a {hp}x{wp} image"
    );
    let [out_h, out_w] = shape.output();
    let taps = kh * outputs * kw * channels;
    // kw spare pixels in `image`: the last row's window reaches kw - 1 values past it.
    let scratch = || {
        let image = vec![0f32; (hp * wp + kw) * channels];
        let gradient = vec![0f32; out_h * wp * outputs];
        (image, gradient)
    };
    let into_image = Placement {
        top: ph,
        left: pw,
        row_width: wp,
    };
    let into_rows = Placement {
        top: 0,
        left: 0,
        row_width: wp,
    };
    let total = sum_over_images(images, taps, scratch, |sum, (image, gradient), n| {
        x.copy_channels_last(n, [channels, height, width], image, into_image);
        dy.copy_channels_last(n, [outputs, out_h, out_w], gradient, into_rows);
        for ky in 0..kh {
            let window = &image[ky * wp * channels..];
            let rows = out_h * wp;
            assert!((rows - 1) * channels + kw * channels <= window.len());
            // sum[ky][o][kx, c] += Σ_r window[r·C + (kx, c)] · gradient[r, o]
            // SAFETY: the window is `rows` rows of kw·C values, C apart, inside `image`
            // (asserted above); `gradient` is rows x O; the destination is the ky-th
            // O x kw·C block of `sum`, which overlaps neither.
            unsafe {
                gemm::gemm(
                    kw * channels,
                    outputs,
                    rows,
                    sum.as_mut_ptr().add(ky * outputs * kw * channels),
                    (kw * channels) as isize,
                    1,
                    true,
                    window.as_ptr(),
                    channels as isize,
                    1,
                    gradient.as_ptr(),
                    1,
                    outputs as isize,
                    1.0,
                    1.0,
                    false,
                    false,
                    false,
                    gemm::Parallelism::None,
                );
            }
        }
    });
    // [ky][o][kx][c] -> [o][c][ky][kx]
    let mut weight = vec![0f32; taps];
    for (i, value) in total.into_iter().enumerate() {
        let c = i % channels;
        let kx = i / channels % kw;
        let o = i / (channels * kw) % outputs;
        let ky = i / (channels * kw * outputs);
        weight[((o * channels + c) * kh + ky) * kw + kx] = value;
    }
    weight
}

/// `len` sums over `images`, split between rayon's threads: each thread makes its own
/// `scratch` and adds its images into its own sums with `add(sums, scratch, image)`; then
/// the threads' sums are added together. Both CPU weight gradients run on it.
pub(crate) fn sum_over_images<S>(
    images: usize,
    len: usize,
    scratch: impl Fn() -> S + Sync,
    add: impl Fn(&mut [f32], &mut S, usize) + Sync,
) -> Vec<f32> {
    let workers = rayon::current_num_threads().clamp(1, images.max(1));
    let partials: Vec<Vec<f32>> = (0..workers)
        .into_par_iter()
        .map(|worker| {
            let mut sums = vec![0f32; len];
            let mut scratch = scratch();
            for image in (worker * images / workers)..((worker + 1) * images / workers) {
                add(&mut sums, &mut scratch, image);
            }
            sums
        })
        .collect();
    let mut total = vec![0f32; len];
    for partial in partials {
        total.iter_mut().zip(partial).for_each(|(t, p)| *t += p);
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The definition, one multiply-add at a time.
    fn reference(x: Strided, dy: Strided, shape: &ConvShape) -> Vec<f32> {
        let [kh, kw] = shape.kernel;
        let [ph, pw] = shape.padding;
        let [out_h, out_w] = shape.output();
        let mut weight = vec![0f32; shape.outputs * shape.channels * kh * kw];
        for o in 0..shape.outputs {
            for c in 0..shape.channels {
                for ky in 0..kh {
                    for kx in 0..kw {
                        let mut sum = 0f64;
                        for n in 0..shape.images {
                            for oy in 0..out_h {
                                for ox in 0..out_w {
                                    let (y, x_) = (oy + ky, ox + kx);
                                    if y < ph || x_ < pw || y >= ph + shape.height {
                                        continue;
                                    }
                                    if x_ >= pw + shape.width {
                                        continue;
                                    }
                                    sum += f64::from(dy.at(n, o, oy, ox))
                                        * f64::from(x.at(n, c, y - ph, x_ - pw));
                                }
                            }
                        }
                        weight[((o * shape.channels + c) * kh + ky) * kw + kx] = sum as f32;
                    }
                }
            }
        }
        weight
    }

    fn values(len: usize, seed: u32) -> Vec<f32> {
        let mut state = seed;
        (0..len)
            .map(|_| {
                state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (state >> 8) as f32 / 16_777_216.0 - 0.5
            })
            .collect()
    }

    /// Row-major strides of `dims` taken in the order `order` (outermost first).
    fn strides(dims: [usize; 4], order: [usize; 4]) -> [usize; 4] {
        let mut strides = [0; 4];
        let mut step = 1;
        for &axis in order.iter().rev() {
            strides[axis] = step;
            step *= dims[axis];
        }
        strides
    }

    fn shape(
        [images, channels, height, width]: [usize; 4],
        outputs: usize,
        kernel: [usize; 2],
        padding: [usize; 2],
    ) -> ConvShape {
        ConvShape {
            images,
            channels,
            height,
            width,
            outputs,
            kernel,
            padding,
        }
    }

    fn check(shape: ConvShape) {
        let [out_h, out_w] = shape.output();
        let x_dims = [shape.images, shape.channels, shape.height, shape.width];
        let dy_dims = [shape.images, shape.outputs, out_h, out_w];
        let x_values = values(x_dims.iter().product(), 1);
        let dy_values = values(dy_dims.iter().product(), 2);
        // Channels-last (LibTorch's activations) and NCHW (flex's).
        for order in [[0, 2, 3, 1], [0, 1, 2, 3]] {
            let x = Strided {
                values: &x_values,
                strides: strides(x_dims, order),
            };
            let dy = Strided {
                values: &dy_values,
                strides: strides(dy_dims, order),
            };
            let want = reference(x, dy, &shape);
            let got = conv2d_weight_gradient(x, dy, &shape);
            assert_eq!(got.len(), want.len());
            for (i, (g, w)) in got.iter().zip(&want).enumerate() {
                assert!(
                    (g - w).abs() < 1e-4,
                    "{shape:?} {order:?} [{i}]: {g} vs {w}"
                );
            }
        }
    }

    #[test]
    fn matches_the_definition_on_same_padding_square_kernels() {
        check(shape([3, 4, 7, 6], 5, [3, 3], [1, 1]));
        check(shape([2, 3, 8, 8], 2, [5, 5], [2, 2]));
    }

    #[test]
    fn matches_the_definition_with_uneven_kernels_and_paddings() {
        check(shape([5, 3, 6, 9], 4, [3, 5], [2, 0]));
        // No padding, a kernel as wide as the image: one output column.
        check(shape([1, 2, 4, 3], 3, [2, 3], [0, 0]));
    }
}
