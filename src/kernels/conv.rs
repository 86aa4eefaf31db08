//! Stride-1 convolution with faster gradients than Burn's on each CPU backend.
//!
//! Burn differentiates `conv2d` with respect to its weight by running another convolution
//! with batch and channels swapped, whose "kernel" is the whole output gradient. On the flex
//! backend that costs twice the forward convolution.
//! Here the weight gradient is matrix products with the same multiply-adds as the forward
//! pass: `sum over images of dY_n · im2col(X_n)ᵀ` on flex, and on LibTorch's CPU
//! [`weight_gradient`](crate::kernels::weight_gradient) or, from one or two channels, a
//! batched product of patches. Flex also takes the input gradient of square layers as a
//! forward convolution; the rest is Burn's, with LibTorch's convolution in channels-last
//! order.

// Burn marks burn-tch deprecated in favour of CubeCL backends; it is still the project's
// chosen path to LibTorch (see src/train/device.rs).
#![cfg_attr(feature = "tch", allow(deprecated))]

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::autodiff::NodeId;
use burn::backend::tensor::FloatTensor;
use burn::backend::{backend_extension, Autodiff, Backend, Dispatch, Flex, TensorMetadata};
use burn::prelude::*;
use burn::tensor::ops::ConvOptions;

/// The backends that run [`conv2d`]. Every step defaults to Burn's own; flex and LibTorch
/// replace some (see the module's documentation), and the autodiff backend records the
/// convolution with its backward.
#[backend_extension(Flex, LibTorch: cfg(feature = "tch"), Autodiff)]
pub trait ConvBackend: Backend {
    /// Convolution of `x` `[N, C, H, W]` with `weight` `[O, C, KH, KW]` plus `bias` `[O]`,
    /// stride 1, no dilation, `padding` zeros on each side.
    fn conv2d_stride1(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        padding: [usize; 2],
    ) -> FloatTensor<Self> {
        Self::conv2d(x, weight, Some(bias), options(padding))
    }

    /// Gradient of the loss with respect to `x`, given the output's gradient.
    fn conv2d_stride1_input_gradient(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        output_gradient: FloatTensor<Self>,
        padding: [usize; 2],
    ) -> FloatTensor<Self> {
        Self::conv2d_x_backward(x, weight, output_gradient, options(padding))
    }

    /// Gradient of the loss with respect to `weight`, given the output's gradient.
    fn conv2d_stride1_weight_gradient(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        output_gradient: FloatTensor<Self>,
        padding: [usize; 2],
    ) -> FloatTensor<Self> {
        Self::conv2d_weight_backward(x, weight, output_gradient, options(padding))
    }

    /// Gradient of the loss with respect to `bias` `[O]`: the output's gradient summed over
    /// images and positions.
    fn conv2d_stride1_bias_gradient(output_gradient: FloatTensor<Self>) -> FloatTensor<Self> {
        let [_, channels, _, _] = output_gradient.shape().dims();
        let rows = Self::float_sum_dim(output_gradient, 3);
        let summed = Self::float_sum_dim(Self::float_sum_dim(rows, 2), 0);
        Self::float_reshape(summed, [channels].into())
    }
}

fn options(padding: [usize; 2]) -> ConvOptions<2> {
    ConvOptions::new([1, 1], padding, [1, 1], 1)
}

/// Stride-1 convolution with `padding` zeros, as `burn::tensor::module::conv2d` computes it,
/// with a faster weight gradient (see the module's documentation).
///
/// ```
/// use burn::prelude::*;
/// let device = Device::flex();
/// let x = Tensor::<4>::ones([1, 1, 3, 3], &device);
/// let weight = Tensor::<4>::ones([1, 1, 3, 3], &device);
/// let bias = Tensor::<1>::zeros([1], &device);
/// let y: Vec<f32> = fer::kernels::conv2d(x, weight, bias, [1, 1]).into_data().try_to_vec::<f32>().unwrap();
/// assert_eq!(y, [4.0, 6.0, 4.0, 6.0, 9.0, 6.0, 4.0, 6.0, 4.0]);
/// ```
pub fn conv2d(x: Tensor<4>, weight: Tensor<4>, bias: Tensor<1>, padding: [usize; 2]) -> Tensor<4> {
    Tensor::from_dispatch(Dispatch::conv2d_stride1(
        x.into_dispatch(),
        weight.into_dispatch(),
        bias.into_dispatch(),
        padding,
    ))
}

impl ConvBackend for Flex {
    /// With no more outputs than input channels, the input gradient as a convolution of the
    /// output gradient with the flipped, transposed kernel (`kernel - 1 - padding` zeros a
    /// side): flex's im2col then copies no more than its transposed convolution scatters,
    /// and the copy is cheaper than the scatter. With more outputs than inputs the scatter
    /// wins, so those layers keep Burn's.
    fn conv2d_stride1_input_gradient(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        output_gradient: FloatTensor<Self>,
        padding: [usize; 2],
    ) -> FloatTensor<Self> {
        use burn::backend::ops::{FloatTensorOps, ModuleOps};
        let [outputs, channels, kh, kw] = weight.shape().dims();
        if outputs > channels || padding[0] >= kh || padding[1] >= kw {
            return Self::conv2d_x_backward(x, weight, output_gradient, options(padding));
        }
        let flipped = Self::float_swap_dims(Self::float_flip(weight, &[2, 3]), 0, 1);
        let padding = [kh - 1 - padding[0], kw - 1 - padding[1]];
        Self::conv2d(output_gradient, flipped, None, options(padding))
    }

    fn conv2d_stride1_weight_gradient(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        output_gradient: FloatTensor<Self>,
        padding: [usize; 2],
    ) -> FloatTensor<Self> {
        flex::weight_gradient(x, weight, output_gradient, padding)
    }
}

#[cfg(feature = "tch")]
impl ConvBackend for burn::backend::LibTorch {
    fn conv2d_stride1(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        padding: [usize; 2],
    ) -> FloatTensor<Self> {
        libtorch::conv2d_channels_last(x, weight, bias, padding)
    }

    fn conv2d_stride1_weight_gradient(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        output_gradient: FloatTensor<Self>,
        padding: [usize; 2],
    ) -> FloatTensor<Self> {
        use libtorch::WeightGradientRoute as Route;
        let place = libtorch::placement([&x, &output_gradient]);
        match libtorch::weight_gradient_route(x.shape()[1], place) {
            Route::NarrowPatches => {
                libtorch::narrow_weight_gradient(x, weight, output_gradient, padding)
            }
            Route::ShiftedRows => {
                libtorch::shifted_rows_weight_gradient(x, weight, output_gradient, padding)
            }
            Route::LibTorch => libtorch::weight_gradient(x, weight, output_gradient, padding),
        }
    }

    fn conv2d_stride1_bias_gradient(output_gradient: FloatTensor<Self>) -> FloatTensor<Self> {
        libtorch::bias_gradient(output_gradient)
    }
}

/// Backward step of [`conv2d`]: each gradient from the backend's [`ConvBackend`] step.
#[derive(Debug)]
struct Conv2dBackward;

impl<B: ConvBackend> Backward<B, 3> for Conv2dBackward {
    type State = (NodeId, NodeId, [usize; 2]);

    fn backward(
        self,
        ops: Ops<Self::State, 3>,
        grads: &mut Gradients,
        checkpointer: &mut Checkpointer,
    ) {
        let [node_x, node_weight, node_bias] = ops.parents;
        let grad = grads.consume::<B>(&ops.node);
        let (x_state, weight_state, padding) = ops.state;
        let x = checkpointer.retrieve_node_output::<FloatTensor<B>>(x_state);
        let weight = checkpointer.retrieve_node_output::<FloatTensor<B>>(weight_state);
        if let Some(node) = node_bias {
            let gradient = B::conv2d_stride1_bias_gradient(grad.clone());
            grads.register::<B>(node.id, gradient);
        }
        if let Some(node) = node_x {
            let input =
                B::conv2d_stride1_input_gradient(x.clone(), weight.clone(), grad.clone(), padding);
            grads.register::<B>(node.id, input);
        }
        if let Some(node) = node_weight {
            let gradient = B::conv2d_stride1_weight_gradient(x, weight, grad, padding);
            grads.register::<B>(node.id, gradient);
        }
    }
}

impl<B: ConvBackend, C: CheckpointStrategy> ConvBackend for Autodiff<B, C> {
    fn conv2d_stride1(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        padding: [usize; 2],
    ) -> FloatTensor<Self> {
        match Conv2dBackward
            .prepare::<C>([x.node(), weight.node(), bias.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(mut prep) => {
                let x_state = prep.checkpoint(&x);
                let weight_state = prep.checkpoint(&weight);
                prep.finish(
                    (x_state, weight_state, padding),
                    B::conv2d_stride1(
                        x.into_primitive(),
                        weight.into_primitive(),
                        bias.into_primitive(),
                        padding,
                    ),
                )
            }
            OpsKind::UnTracked(prep) => prep.finish(B::conv2d_stride1(
                x.into_primitive(),
                weight.into_primitive(),
                bias.into_primitive(),
                padding,
            )),
        }
    }
}

/// LibTorch's steps: the channels-last forward pass and the weight and bias gradients, with
/// LibTorch's own kernels through the C++ shim that build.rs compiles
/// (src/kernels/libtorch_shim.cpp) where fer's do not apply.
#[cfg(feature = "tch")]
mod libtorch {
    use crate::kernels::libtorch_shim::conv2d_weight_gradient;
    use crate::kernels::weight_gradient::{self, ConvShape, Strided};
    use burn::backend::libtorch::TchTensor;

    /// The convolution with its weight in channels-last order, which makes oneDNN compute
    /// and return channels-last activations. BatchNorm, ELU and max-pooling keep that order,
    /// so the layers skip oneDNN's reorders from NCHW and pool with the vectorized
    /// channels-last kernel.
    ///
    /// Images of one channel are both NCHW and NHWC; LibTorch reads contiguous ones as NCHW
    /// and would return NCHW activations, so they get NHWC strides first (a view, no copy).
    /// Otherwise the first BatchNorm's gradient, channels-last from the layers above, would
    /// meet an NCHW input and take LibTorch's serial fallback kernel.
    pub fn conv2d_channels_last(
        x: TchTensor,
        weight: TchTensor,
        bias: TchTensor,
        padding: [usize; 2],
    ) -> TchTensor {
        let weight = weight
            .tensor
            .permute([0, 2, 3, 1])
            .contiguous()
            .permute([0, 3, 1, 2]);
        let x = match x.tensor.size()[..] {
            [n, 1, h, w] if x.tensor.is_contiguous() => {
                x.tensor.as_strided([n, 1, h, w], [h * w, 1, w, 1], None)
            }
            _ => x.tensor,
        };
        TchTensor::new(x.conv2d(
            &weight,
            Some(&bias.tensor),
            [1, 1],
            [padding[0] as i64, padding[1] as i64],
            [1, 1],
            1,
        ))
    }

    /// One reduction over images and positions, where Burn makes three `sum_dim` passes
    /// over the channels-last gradient.
    pub fn bias_gradient(output_gradient: TchTensor) -> TchTensor {
        let axes: &[i64] = &[0, 2, 3];
        TchTensor::new(
            output_gradient
                .tensor
                .sum_dim_intlist(axes, false, tch::Kind::Float),
        )
    }

    /// The weight gradient from images of few channels, as one batched product of their
    /// patches `[N, C·kh·kw, positions]` with the output gradient `[N, positions, O]`
    /// (a view of its channels-last memory): with so few channels the patches are small,
    /// and one product beats both Burn's swapped-axes convolution and oneDNN's kernel.
    pub fn narrow_weight_gradient(
        x: TchTensor,
        weight: TchTensor,
        output_gradient: TchTensor,
        padding: [usize; 2],
    ) -> TchTensor {
        let [outputs, channels, kh, kw] = dims(&weight.tensor);
        let [n, _, out_h, out_w] = dims(&output_gradient.tensor);
        let patches = x.tensor.im2col(
            [kh as i64, kw as i64],
            [1, 1],
            [padding[0] as i64, padding[1] as i64],
            [1, 1],
        );
        let output_gradient = output_gradient
            .tensor
            .permute([0, 2, 3, 1])
            .reshape([n, out_h * out_w, outputs].map(|d| d as i64));
        let per_image = patches.bmm(&output_gradient);
        let axes: &[i64] = &[0];
        let gradient = per_image.sum_dim_intlist(axes, false, tch::Kind::Float);
        TchTensor::new(
            gradient
                .tr()
                .reshape([outputs, channels, kh, kw].map(|d| d as i64)),
        )
    }

    /// The kernel that computes a convolution's weight gradient.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum WeightGradientRoute {
        /// One batched product of the patches with the gradient: on the CPU from one or two
        /// input channels (the first layer), where it beats oneDNN's kernel.
        NarrowPatches,
        /// fer's shifted-rows products, reading f32 CPU memory in place: the CPU otherwise.
        ShiftedRows,
        /// LibTorch's own kernel: cuDNN on a GPU, and any other element type.
        LibTorch,
    }

    /// Where the inputs of one operation live and what they hold: `None` when they differ.
    pub fn placement<const N: usize>(tensors: [&TchTensor; N]) -> Option<(tch::Device, tch::Kind)> {
        let first = (tensors[0].tensor.device(), tensors[0].tensor.kind());
        let same = tensors
            .iter()
            .all(|t| (t.tensor.device(), t.tensor.kind()) == first);
        same.then_some(first)
    }

    /// fer's kernels run on the CPU only; any other device takes LibTorch's.
    pub fn weight_gradient_route(
        input_channels: usize,
        place: Option<(tch::Device, tch::Kind)>,
    ) -> WeightGradientRoute {
        match place {
            Some((tch::Device::Cpu, _)) if input_channels <= 2 => {
                WeightGradientRoute::NarrowPatches
            }
            Some((tch::Device::Cpu, tch::Kind::Float)) => WeightGradientRoute::ShiftedRows,
            _ => WeightGradientRoute::LibTorch,
        }
    }

    /// fer's weight gradient ([`crate::kernels::weight_gradient`]) read from LibTorch's memory
    /// in place: channels-last activations need no copy.
    pub fn shifted_rows_weight_gradient(
        x: TchTensor,
        weight: TchTensor,
        output_gradient: TchTensor,
        padding: [usize; 2],
    ) -> TchTensor {
        let x = dense(&x.tensor);
        let output_gradient = dense(&output_gradient.tensor);
        let [images, channels, height, width] = dims(&x);
        let [outputs, weight_channels, kh, kw] = dims(&weight.tensor);
        let shape = ConvShape {
            images,
            channels,
            height,
            width,
            outputs,
            kernel: [kh, kw],
            padding,
        };
        let [out_h, out_w] = shape.output();
        let expected = [images, outputs, out_h, out_w];
        assert!(
            weight_channels == channels && dims(&output_gradient) == expected,
            "convolution weight gradient: images {:?}, weight {:?} and output gradient {:?} \
             do not fit (expected an output gradient of {expected:?})",
            x.size(),
            weight.tensor.size(),
            output_gradient.size()
        );
        let gradient =
            weight_gradient::conv2d_weight_gradient(values(&x), values(&output_gradient), &shape);
        TchTensor::new(tch::Tensor::from_slice(&gradient).view(weight.tensor.size().as_slice()))
    }

    /// The sizes of a 4-D tensor; convolution tensors have four dimensions.
    fn dims(t: &tch::Tensor) -> [usize; 4] {
        let size = t.size();
        assert_eq!(size.len(), 4, "a 4-D tensor, not {size:?}");
        std::array::from_fn(|i| size[i] as usize)
    }

    /// `t` itself when its values are dense in NCHW or channels-last order, else a
    /// channels-last copy.
    fn dense(t: &tch::Tensor) -> tch::Tensor {
        let channels_last = t.permute([0, 2, 3, 1]);
        if t.is_contiguous() || channels_last.is_contiguous() {
            t.shallow_clone()
        } else {
            channels_last.contiguous().permute([0, 3, 1, 2])
        }
    }

    /// The values of a dense f32 CPU tensor, in memory order, with its strides.
    fn values(t: &tch::Tensor) -> Strided<'_> {
        let strides = t.stride();
        // SAFETY: `t` is a dense f32 CPU tensor ([`dense`], [`weight_gradient_route`]): its
        // `numel` values are consecutive from `data_ptr`, and the borrow of `t` keeps them
        // alive and unchanged while the slice lives.
        let values = unsafe { std::slice::from_raw_parts(t.data_ptr() as *const f32, t.numel()) };
        Strided {
            values,
            strides: std::array::from_fn(|i| strides[i] as usize),
        }
    }

    /// LibTorch's own weight gradient (cuDNN on a GPU) through the C++ shim, for tensors
    /// Rust cannot read in place.
    pub fn weight_gradient(
        x: TchTensor,
        weight: TchTensor,
        output_gradient: TchTensor,
        padding: [usize; 2],
    ) -> TchTensor {
        TchTensor::new(conv2d_weight_gradient(
            &x.tensor,
            &weight.tensor,
            &output_gradient.tensor,
            padding,
        ))
    }
}

/// The weight gradient on flex's CPU buffers.
mod flex {
    use crate::kernels::weight_gradient::sum_over_images;
    use burn::backend::flex::FlexTensor;
    use burn::tensor::TensorData;

    /// `dW[o, c·kh·kw] = Σ_n dY_n[o, positions] · im2col(X_n)[c·kh·kw, positions]ᵀ`, the
    /// images split between rayon's threads ([`sum_over_images`]).
    pub fn weight_gradient(
        x: FlexTensor,
        weight: FlexTensor,
        output_gradient: FlexTensor,
        padding: [usize; 2],
    ) -> FlexTensor {
        let x = x.to_contiguous();
        let dy = output_gradient.to_contiguous();
        let [n, channels, height, width] = dims(&x);
        let [outputs, _, kh, kw] = dims(&weight);
        let [_, _, out_h, out_w] = dims(&dy);
        let positions = out_h * out_w;
        let patch = channels * kh * kw;
        let xs: &[f32] = x.storage();
        let dys: &[f32] = dy.storage();
        let geometry = Geometry {
            channels,
            height,
            width,
            kh,
            kw,
            padding,
            out_h,
            out_w,
        };

        let scratch = || vec![0f32; patch * positions];
        let total = sum_over_images(n, outputs * patch, scratch, |sum, columns, image| {
            let x_n = &xs[image * channels * height * width..][..channels * height * width];
            geometry.im2col(x_n, columns);
            let dy_n = &dys[image * outputs * positions..][..outputs * positions];
            // sum[outputs x patch] += dy_n[outputs x positions] · columnsᵀ
            // SAFETY: every pointer, extent and stride describes a live slice of the stated
            // shape; `sum` does not overlap the inputs.
            unsafe {
                gemm::gemm(
                    outputs,
                    patch,
                    positions,
                    sum.as_mut_ptr(),
                    1,
                    patch as isize,
                    true,
                    dy_n.as_ptr(),
                    1,
                    positions as isize,
                    columns.as_ptr(),
                    positions as isize,
                    1,
                    1.0,
                    1.0,
                    false,
                    false,
                    false,
                    gemm::Parallelism::None,
                );
            }
        });
        FlexTensor::from_data(TensorData::new(total, [outputs, channels, kh, kw]))
    }

    fn dims(t: &FlexTensor) -> [usize; 4] {
        let shape = t.layout().shape();
        [shape[0], shape[1], shape[2], shape[3]]
    }

    /// Where a stride-1 convolution reads its inputs.
    struct Geometry {
        channels: usize,
        height: usize,
        width: usize,
        kh: usize,
        kw: usize,
        padding: [usize; 2],
        out_h: usize,
        out_w: usize,
    }

    impl Geometry {
        /// Fills `columns` `[channels·kh·kw, out_h·out_w]`: row `(c, dy, dx)` holds, for every
        /// output position, the input value it multiplies with weight `(c, dy, dx)`, zero in
        /// the padding.
        fn im2col(&self, image: &[f32], columns: &mut [f32]) {
            let [pad_y, pad_x] = self.padding.map(|p| p as isize);
            let mut rows = columns.chunks_exact_mut(self.out_h * self.out_w);
            for c in 0..self.channels {
                let plane = &image[c * self.height * self.width..][..self.height * self.width];
                for dy in 0..self.kh as isize {
                    for dx in 0..self.kw as isize {
                        let row = rows.next().expect("columns has channels·kh·kw rows");
                        // Output columns ox whose input column ox + dx - pad_x lies inside.
                        let first = (pad_x - dx).clamp(0, self.out_w as isize) as usize;
                        let last = (self.width as isize + pad_x - dx).clamp(0, self.out_w as isize)
                            as usize;
                        for (oy, out) in row.chunks_exact_mut(self.out_w).enumerate() {
                            let iy = oy as isize + dy - pad_y;
                            if iy < 0 || iy >= self.height as isize || first >= last {
                                out.fill(0.0);
                                continue;
                            }
                            let source = &plane[iy as usize * self.width..][..self.width];
                            let start = (first as isize + dx - pad_x) as usize;
                            out[..first].fill(0.0);
                            out[first..last].copy_from_slice(&source[start..start + last - first]);
                            out[last..].fill(0.0);
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::testing::{assert_close, floats, weighting};
    use burn::tensor::Distribution;

    /// Output, input gradient, weight gradient and bias gradient of `sum(conv(x) * r)`, with
    /// fer's convolution and with Burn's.
    fn compare(x: [usize; 4], weight: [usize; 4], padding: [usize; 2]) {
        let device = Device::flex().autodiff();
        let x = Tensor::<4>::random(x, Distribution::Normal(0.0, 1.0), &device);
        let w = Tensor::<4>::random(weight, Distribution::Normal(0.0, 1.0), &device);
        let b = Tensor::<1>::random([weight[0]], Distribution::Normal(0.0, 1.0), &device);
        let run = |ours: bool| {
            let (x, w, b) = (
                x.clone().require_grad(),
                w.clone().require_grad(),
                b.clone().require_grad(),
            );
            let y = if ours {
                conv2d(x.clone(), w.clone(), b.clone(), padding)
            } else {
                burn::tensor::module::conv2d(
                    x.clone(),
                    w.clone(),
                    Some(b.clone()),
                    options(padding),
                )
            };
            let grads = (y.clone() * weighting(y.dims(), &device)).sum().backward();
            [
                floats(y.inner()),
                floats(x.grad(&grads).unwrap()),
                floats(w.grad(&grads).unwrap()),
                floats(b.grad(&grads).unwrap()),
            ]
        };
        let ours = run(true);
        let burns = run(false);
        for (what, (a, b)) in [
            "output",
            "input gradient",
            "weight gradient",
            "bias gradient",
        ]
        .iter()
        .zip(ours.iter().zip(&burns))
        {
            assert_close(a, b, 1e-4, what);
        }
    }

    #[test]
    fn matches_burns_convolution_and_gradients_with_same_padding() {
        compare([3, 2, 9, 8], [4, 2, 3, 3], [1, 1]);
        // No more outputs than channels: flex's input gradient as a flipped convolution.
        compare([2, 4, 7, 9], [3, 4, 3, 5], [2, 1]);
        compare([2, 3, 6, 7], [3, 3, 5, 3], [1, 0]);
        compare([2, 3, 12, 12], [5, 3, 5, 5], [2, 2]);
    }

    #[test]
    fn matches_burns_convolution_without_padding_and_with_uneven_kernels() {
        compare([2, 1, 7, 9], [3, 1, 3, 3], [0, 0]);
        compare([2, 2, 8, 7], [3, 2, 3, 5], [1, 2]);
        compare([1, 2, 6, 6], [2, 2, 1, 1], [0, 0]);
    }

    #[test]
    fn one_image_and_more_images_than_threads_sum_alike() {
        compare([1, 2, 5, 5], [2, 2, 3, 3], [1, 1]);
        compare([7, 2, 5, 5], [2, 2, 3, 3], [1, 1]);
    }
}

/// Which kernel each LibTorch placement takes, decided from the device type alone, so the
/// GPU routes are checked on a machine without a GPU.
#[cfg(all(test, feature = "tch"))]
mod libtorch_routes {
    use super::libtorch::{weight_gradient_route, WeightGradientRoute as Route};
    use tch::{Device, Kind};

    #[test]
    fn fers_cpu_kernels_take_f32_cpu_tensors_only() {
        let cpu = Some((Device::Cpu, Kind::Float));
        assert_eq!(weight_gradient_route(1, cpu), Route::NarrowPatches);
        assert_eq!(weight_gradient_route(2, cpu), Route::NarrowPatches);
        assert_eq!(weight_gradient_route(3, cpu), Route::ShiftedRows);
        assert_eq!(weight_gradient_route(64, cpu), Route::ShiftedRows);
        let double = Some((Device::Cpu, Kind::Double));
        assert_eq!(weight_gradient_route(64, double), Route::LibTorch);
    }

    #[test]
    fn gpu_tensors_and_mixed_placements_take_libtorchs_kernel() {
        for device in [
            Device::Cuda(0),
            Device::Cuda(3),
            Device::Mps,
            Device::Vulkan,
        ] {
            for channels in [1, 2, 64] {
                let route = weight_gradient_route(channels, Some((device, Kind::Float)));
                assert_eq!(route, Route::LibTorch, "{device:?}, {channels} channels");
            }
        }
        assert_eq!(weight_gradient_route(64, None), Route::LibTorch);
        assert_eq!(weight_gradient_route(1, None), Route::LibTorch);
    }
}
