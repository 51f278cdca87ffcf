// A two-layer model in the form the importer gives an export with past
// key/values: each layer's keys and values are concat(past, fresh) along the
// sequence axis (insert_slices into a tensor.empty), the past length is read
// off the first past input, and the presents are returned. Layer 0 has a
// window of 4 of the model's own (attn.native_window), layer 1 is full
// attention.
func.func @forward(%q: tensor<?x4x?x4xf32> {swaa.input = "q"},
                   %kn0: tensor<?x2x?x4xf32> {swaa.input = "k0"},
                   %vn0: tensor<?x2x?x4xf32> {swaa.input = "v0"},
                   %kn1: tensor<?x2x?x4xf32> {swaa.input = "k1"},
                   %vn1: tensor<?x2x?x4xf32> {swaa.input = "v1"},
                   %pk0: tensor<?x2x?x4xf32> {swaa.input = "past.0.key", swaa.kv_cache = {kind = "key", layer = 0 : i64, role = "past"}},
                   %pv0: tensor<?x2x?x4xf32> {swaa.input = "past.0.value", swaa.kv_cache = {kind = "value", layer = 0 : i64, role = "past"}},
                   %pk1: tensor<?x2x?x4xf32> {swaa.input = "past.1.key", swaa.kv_cache = {kind = "key", layer = 1 : i64, role = "past"}},
                   %pv1: tensor<?x2x?x4xf32> {swaa.input = "past.1.value", swaa.kv_cache = {kind = "value", layer = 1 : i64, role = "past"}})
    -> (tensor<?x4x?x4xf32> {swaa.output = "out"},
        tensor<?x2x?x4xf32> {swaa.kv_cache = {kind = "key", layer = 0 : i64, role = "present"}, swaa.output = "present.0.key"},
        tensor<?x2x?x4xf32> {swaa.kv_cache = {kind = "value", layer = 0 : i64, role = "present"}, swaa.output = "present.0.value"},
        tensor<?x2x?x4xf32> {swaa.kv_cache = {kind = "key", layer = 1 : i64, role = "present"}, swaa.output = "present.1.key"},
        tensor<?x2x?x4xf32> {swaa.kv_cache = {kind = "value", layer = 1 : i64, role = "present"}, swaa.output = "present.1.value"}) {
  %c0 = arith.constant 0 : index
  %c2 = arith.constant 2 : index
  %b = tensor.dim %q, %c0 : tensor<?x4x?x4xf32>
  %s = tensor.dim %q, %c2 : tensor<?x4x?x4xf32>
  %p = tensor.dim %pk0, %c2 : tensor<?x2x?x4xf32>
  %t = arith.addi %p, %s : index
  %e0 = tensor.empty(%b, %t) : tensor<?x2x?x4xf32>
  %k0a = tensor.insert_slice %pk0 into %e0[0, 0, 0, 0] [%b, 2, %p, 4] [1, 1, 1, 1] : tensor<?x2x?x4xf32> into tensor<?x2x?x4xf32>
  %k0 = tensor.insert_slice %kn0 into %k0a[0, 0, %p, 0] [%b, 2, %s, 4] [1, 1, 1, 1] : tensor<?x2x?x4xf32> into tensor<?x2x?x4xf32>
  %e1 = tensor.empty(%b, %t) : tensor<?x2x?x4xf32>
  %v0a = tensor.insert_slice %pv0 into %e1[0, 0, 0, 0] [%b, 2, %p, 4] [1, 1, 1, 1] : tensor<?x2x?x4xf32> into tensor<?x2x?x4xf32>
  %v0 = tensor.insert_slice %vn0 into %v0a[0, 0, %p, 0] [%b, 2, %s, 4] [1, 1, 1, 1] : tensor<?x2x?x4xf32> into tensor<?x2x?x4xf32>
  %o0 = attn.attention layer 0 causal window 4 scale 0.5 ins(%q, %k0, %v0 : tensor<?x4x?x4xf32>, tensor<?x2x?x4xf32>, tensor<?x2x?x4xf32>) {attn.native_window = 4 : i64} -> tensor<?x4x?x4xf32>
  %e2 = tensor.empty(%b, %t) : tensor<?x2x?x4xf32>
  %k1a = tensor.insert_slice %pk1 into %e2[0, 0, 0, 0] [%b, 2, %p, 4] [1, 1, 1, 1] : tensor<?x2x?x4xf32> into tensor<?x2x?x4xf32>
  %k1 = tensor.insert_slice %kn1 into %k1a[0, 0, %p, 0] [%b, 2, %s, 4] [1, 1, 1, 1] : tensor<?x2x?x4xf32> into tensor<?x2x?x4xf32>
  %e3 = tensor.empty(%b, %t) : tensor<?x2x?x4xf32>
  %v1a = tensor.insert_slice %pv1 into %e3[0, 0, 0, 0] [%b, 2, %p, 4] [1, 1, 1, 1] : tensor<?x2x?x4xf32> into tensor<?x2x?x4xf32>
  %v1 = tensor.insert_slice %vn1 into %v1a[0, 0, %p, 0] [%b, 2, %s, 4] [1, 1, 1, 1] : tensor<?x2x?x4xf32> into tensor<?x2x?x4xf32>
  %o1 = attn.attention layer 1 causal scale 0.5 ins(%o0, %k1, %v1 : tensor<?x4x?x4xf32>, tensor<?x2x?x4xf32>, tensor<?x2x?x4xf32>) -> tensor<?x4x?x4xf32>
  return %o1, %k0, %v0, %k1, %v1 : tensor<?x4x?x4xf32>, tensor<?x2x?x4xf32>, tensor<?x2x?x4xf32>, tensor<?x2x?x4xf32>, tensor<?x2x?x4xf32>
}
