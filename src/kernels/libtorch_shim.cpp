// LibTorch operators that tch's generated API leaves out (it skips operators that take a
// `bool[3]` mask). Built by build.rs with the `tch` feature and called through
// src/model/libtorch_shim.rs on the `at::Tensor*` that `tch::Tensor::as_ptr` gives.
//
// Every function returns 0 and stores new tensors (the caller owns them) on success; on
// failure it writes LibTorch's message into `error` and returns 1: no C++ exception may
// cross into Rust.

#include <ATen/core/Tensor.h>
#include <ATen/ops/convolution_backward.h>
#include <ATen/ops/native_batch_norm_backward.h>

#include <cstdio>
#include <exception>

namespace {

template <typename Body>
int guarded(char *error, size_t error_len, Body body) {
  try {
    body();
    return 0;
  } catch (const std::exception &e) {
    std::snprintf(error, error_len, "%s", e.what());
    return 1;
  }
}

}  // namespace

extern "C" {

// Gradient of a stride-1, undilated, ungrouped convolution with respect to its weight.
int fer_conv2d_weight_gradient(const at::Tensor *x, const at::Tensor *weight,
                               const at::Tensor *output_gradient, int64_t padding_h,
                               int64_t padding_w, at::Tensor **weight_gradient, char *error,
                               size_t error_len) {
  return guarded(error, error_len, [&] {
    const int64_t stride[2] = {1, 1};
    const int64_t padding[2] = {padding_h, padding_w};
    const int64_t dilation[2] = {1, 1};
    const int64_t output_padding[2] = {0, 0};
    auto gradients = at::convolution_backward(
        *output_gradient, *x, *weight, c10::nullopt, stride, padding, dilation,
        /*transposed=*/false, output_padding, /*groups=*/1, {false, true, false});
    *weight_gradient = new at::Tensor(std::get<1>(gradients));
  });
}

// Input, gamma and beta gradients of training-mode batch normalization, from the batch
// mean and inverse standard deviation of the forward pass.
int fer_batch_norm_backward(const at::Tensor *output_gradient, const at::Tensor *x,
                            const at::Tensor *gamma, const at::Tensor *mean,
                            const at::Tensor *inv_std, double epsilon, at::Tensor **x_gradient,
                            at::Tensor **gamma_gradient, at::Tensor **beta_gradient, char *error,
                            size_t error_len) {
  return guarded(error, error_len, [&] {
    auto gradients = at::native_batch_norm_backward(
        *output_gradient, *x, *gamma, /*running_mean=*/c10::nullopt,
        /*running_var=*/c10::nullopt, *mean, *inv_std, /*train=*/true, epsilon,
        {true, true, true});
    *x_gradient = new at::Tensor(std::get<0>(gradients));
    *gamma_gradient = new at::Tensor(std::get<1>(gradients));
    *beta_gradient = new at::Tensor(std::get<2>(gradients));
  });
}

}  // extern "C"
