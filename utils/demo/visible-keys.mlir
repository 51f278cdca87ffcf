// The demo's bundled example: which keys each query sees, computed by the
// compiled code itself. Queries and keys are all zero, so every visible key
// gets the same softmax weight; the values are one-hot (the identity), so
// out[i][j] = 1 / (number of keys query i sees) if key j is visible, else 0.
// utils/demo.sh lowers this with --swaa-reference-cpu, runs it with
// mlir-runner and draws each result as a grid.

func.func private @printMemrefF32(tensor<*xf32>)

func.func @full(%q: tensor<1x1x12x1xf32>, %k: tensor<1x1x12x1xf32>, %v: tensor<1x1x12x12xf32>) -> tensor<1x1x12x12xf32> {
  %o = attn.attention layer 0 causal scale 1.0
         ins(%q, %k, %v : tensor<1x1x12x1xf32>, tensor<1x1x12x1xf32>, tensor<1x1x12x12xf32>) -> tensor<1x1x12x12xf32>
  return %o : tensor<1x1x12x12xf32>
}

func.func @swa(%q: tensor<1x1x12x1xf32>, %k: tensor<1x1x12x1xf32>, %v: tensor<1x1x12x12xf32>) -> tensor<1x1x12x12xf32> {
  %o = attn.attention layer 0 causal window 4 scale 1.0
         ins(%q, %k, %v : tensor<1x1x12x1xf32>, tensor<1x1x12x1xf32>, tensor<1x1x12x12xf32>) -> tensor<1x1x12x12xf32>
  return %o : tensor<1x1x12x12xf32>
}

func.func @swa_sinks(%q: tensor<1x1x12x1xf32>, %k: tensor<1x1x12x1xf32>, %v: tensor<1x1x12x12xf32>) -> tensor<1x1x12x12xf32> {
  %o = attn.attention layer 0 causal window 4 sinks 2 scale 1.0
         ins(%q, %k, %v : tensor<1x1x12x1xf32>, tensor<1x1x12x1xf32>, tensor<1x1x12x12xf32>) -> tensor<1x1x12x12xf32>
  return %o : tensor<1x1x12x12xf32>
}

func.func @main() {
  %zero = arith.constant dense<0.0> : tensor<1x1x12x1xf32>
  %identity = arith.constant dense<[[[[1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0]]]]> : tensor<1x1x12x12xf32>
  %full = call @full(%zero, %zero, %identity) : (tensor<1x1x12x1xf32>, tensor<1x1x12x1xf32>, tensor<1x1x12x12xf32>) -> tensor<1x1x12x12xf32>
  %full_u = tensor.cast %full : tensor<1x1x12x12xf32> to tensor<*xf32>
  call @printMemrefF32(%full_u) : (tensor<*xf32>) -> ()
  %swa = call @swa(%zero, %zero, %identity) : (tensor<1x1x12x1xf32>, tensor<1x1x12x1xf32>, tensor<1x1x12x12xf32>) -> tensor<1x1x12x12xf32>
  %swa_u = tensor.cast %swa : tensor<1x1x12x12xf32> to tensor<*xf32>
  call @printMemrefF32(%swa_u) : (tensor<*xf32>) -> ()
  %swa_sinks = call @swa_sinks(%zero, %zero, %identity) : (tensor<1x1x12x1xf32>, tensor<1x1x12x1xf32>, tensor<1x1x12x12xf32>) -> tensor<1x1x12x12xf32>
  %swa_sinks_u = tensor.cast %swa_sinks : tensor<1x1x12x12xf32> to tensor<*xf32>
  call @printMemrefF32(%swa_sinks_u) : (tensor<*xf32>) -> ()
  return
}
