// LibTorch's own convolution weight gradient, which tch's generated API leaves out (it
// skips operators that take a `bool[3]` mask). Built by build.rs with the `tch` feature and
// called from src/model/conv.rs on the `at::Tensor*` that `tch::Tensor::as_ptr` gives.

#include <ATen/core/Tensor.h>
#include <ATen/ops/convolution_backward.h>

#include <cstdio>
#include <exception>

extern "C" {

// Gradient of a stride-1, undilated, ungrouped convolution with respect to its weight.
// On success stores a new tensor in `*weight_gradient` (the caller owns it) and returns 0.
// On failure writes LibTorch's message into `error` and returns 1: no C++ exception may
// cross into Rust.
int fer_conv2d_weight_gradient(const at::Tensor *x, const at::Tensor *weight,
                               const at::Tensor *output_gradient, int64_t padding_h,
                               int64_t padding_w, at::Tensor **weight_gradient, char *error,
                               size_t error_len) {
  try {
    const int64_t stride[2] = {1, 1};
    const int64_t padding[2] = {padding_h, padding_w};
    const int64_t dilation[2] = {1, 1};
    const int64_t output_padding[2] = {0, 0};
    auto gradients = at::convolution_backward(
        *output_gradient, *x, *weight, c10::nullopt, stride, padding, dilation,
        /*transposed=*/false, output_padding, /*groups=*/1, {false, true, false});
    *weight_gradient = new at::Tensor(std::get<1>(gradients));
    return 0;
  } catch (const std::exception &e) {
    std::snprintf(error, error_len, "%s", e.what());
    return 1;
  }
}

}  // extern "C"
