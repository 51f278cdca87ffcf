// Input of window-zero.test: an attention with window 0, which the verifier
// rejects.
func.func @window_zero(%q: tensor<1x2x8x4xf32>, %k: tensor<1x2x8x4xf32>,
                       %v: tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32> {
  // Window 0 would hide even the query itself.
  %o = attn.attention layer 0 causal window 0 scale 0.5
         ins(%q, %k, %v : tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>)
         -> tensor<1x2x8x4xf32>
  return %o : tensor<1x2x8x4xf32>
}
