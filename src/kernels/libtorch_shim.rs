//! Safe calls into the C++ shim (src/kernels/libtorch_shim.cpp, compiled by build.rs) for
//! LibTorch operators that tch does not generate.

use std::ffi::{c_char, c_int, CStr};
use tch::Tensor;
use torch_sys::C_tensor;

extern "C" {
    fn fer_conv2d_weight_gradient(
        x: *const C_tensor,
        weight: *const C_tensor,
        output_gradient: *const C_tensor,
        padding_h: i64,
        padding_w: i64,
        weight_gradient: *mut *mut C_tensor,
        error: *mut c_char,
        error_len: usize,
    ) -> c_int;

    fn fer_batch_norm_backward(
        output_gradient: *const C_tensor,
        x: *const C_tensor,
        gamma: *const C_tensor,
        mean: *const C_tensor,
        inv_std: *const C_tensor,
        epsilon: f64,
        x_gradient: *mut *mut C_tensor,
        gamma_gradient: *mut *mut C_tensor,
        beta_gradient: *mut *mut C_tensor,
        error: *mut c_char,
        error_len: usize,
    ) -> c_int;
}

/// Runs one shim function with a buffer for LibTorch's error message.
///
/// # Panics
/// When the shim reports a failure, with `what` and LibTorch's message: Burn's tensor
/// operations have no error path, and burn-tch panics likewise.
fn call(what: &str, shim: impl FnOnce(*mut c_char, usize) -> c_int) {
    let mut error = [0 as c_char; 1024];
    if shim(error.as_mut_ptr(), error.len()) != 0 {
        // SAFETY: the shim wrote a NUL-terminated message that fits the buffer.
        let message = unsafe { CStr::from_ptr(error.as_ptr()) };
        panic!("LibTorch {what}: {}", message.to_string_lossy());
    }
}

/// Weight gradient of a stride-1 convolution with `padding` (height, width).
pub fn conv2d_weight_gradient(
    x: &Tensor,
    weight: &Tensor,
    output_gradient: &Tensor,
    padding: [usize; 2],
) -> Tensor {
    let mut gradient = std::ptr::null_mut();
    // SAFETY: the inputs are live `at::Tensor`s borrowed for the call.
    call("convolution weight gradient", |error, error_len| unsafe {
        fer_conv2d_weight_gradient(
            x.as_ptr(),
            weight.as_ptr(),
            output_gradient.as_ptr(),
            padding[0] as i64,
            padding[1] as i64,
            &mut gradient,
            error,
            error_len,
        )
    });
    // SAFETY: the call succeeded, so `gradient` is a fresh heap `at::Tensor` that only
    // `from_ptr` owns (tch frees it on drop).
    unsafe { Tensor::from_ptr(gradient) }
}

/// Input, gamma and beta gradients of training-mode batch normalization, from the batch's
/// mean and inverse standard deviation.
pub fn batch_norm_backward(
    output_gradient: &Tensor,
    x: &Tensor,
    gamma: &Tensor,
    mean: &Tensor,
    inv_std: &Tensor,
    epsilon: f64,
) -> (Tensor, Tensor, Tensor) {
    let mut gradients = [std::ptr::null_mut(); 3];
    let [x_gradient, gamma_gradient, beta_gradient] = &mut gradients;
    // SAFETY: the inputs are live `at::Tensor`s borrowed for the call.
    call("batch norm gradient", |error, error_len| unsafe {
        fer_batch_norm_backward(
            output_gradient.as_ptr(),
            x.as_ptr(),
            gamma.as_ptr(),
            mean.as_ptr(),
            inv_std.as_ptr(),
            epsilon,
            x_gradient,
            gamma_gradient,
            beta_gradient,
            error,
            error_len,
        )
    });
    // SAFETY: as in `conv2d_weight_gradient`, for each of the three.
    let [x_gradient, gamma_gradient, beta_gradient] =
        gradients.map(|gradient| unsafe { Tensor::from_ptr(gradient) });
    (x_gradient, gamma_gradient, beta_gradient)
}
