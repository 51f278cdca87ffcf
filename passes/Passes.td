//===- Passes.td - the SWAA transformation passes ----------*- tablegen -*-===//
//
// The four strategies of Sliding Window Attention Adaptation as passes on the
// `attn` dialect: sliding windows, sink tokens, interleaved full-attention
// layers, and the prefill/decode split (with FA decode). Each runs alone
// under swaa-opt; `swaa-pipeline` runs them from one recipe.
//
//===----------------------------------------------------------------------===//

#ifndef SWAA_PASSES_PASSES_TD
#define SWAA_PASSES_PASSES_TD

include "mlir/Pass/PassBase.td"

def AttnInterleavePass : Pass<"attn-interleave"> {
  let summary = "keep the selected attention layers full attention";
  let description = [{
    Marks every `attn.attention` whose `layer` is in `fa-layers` with the
    `attn.keep_full` unit attribute and drops any `window`/`sinks` it has, so
    that `attn-sliding-window` and `attn-keep-sinks` leave it full (the order
    of the three passes does not matter). A spec that selects a layer with
    the model's own window (`attn.native_window`) is an error naming those
    layers and the model's full-attention ones.

    `fa-layers` is a layer spec: lists `0,3,7`, ranges `0-3`, `every:K`,
    `every:K:offset:O`, `first:N`, `last:N`, `odd`, `even`, `none`, `all`, and
    comma-joined combinations. SWAA's interleaving keeps half (`odd`), a
    quarter (`every:4:offset:1`) or an eighth of the layers full. A layer out
    of range or bad syntax is an error naming the spec and the position at
    fault.

    ```mlir
    // swaa-opt --attn-interleave="fa-layers=odd" marks layers 1, 3, ...
    %o = attn.attention layer 1 causal scale 0.125 ins(...) {attn.keep_full} -> ...
    ```
  }];
  let options = [
    Option<"faLayers", "fa-layers", "std::string", /*default=*/"\"none\"",
           "layers that stay full attention (a layer spec)">,
  ];
}

def AttnReleaseNativeWindowsPass : Pass<"attn-release-native-windows"> {
  let summary = "let a recipe change the layers with the model's own window";
  let description = [{
    The importer marks every attention whose sliding window came from the
    model itself with `attn.native_window = W`. A recipe keeps such layers
    as the model has them: `attn-sliding-window` and `attn-keep-sinks` pass
    them over, `attn-interleave` and `attn-split-prefill-decode` refuse a
    layer spec that names them. This pass drops the marks (swaa-compile
    `--override-native-windows`), so that the recipe treats those layers
    like the model's full-attention ones.
  }];
}

def AttnSlidingWindowPass : Pass<"attn-sliding-window"> {
  let summary = "turn attention layers into sliding-window attention";
  let description = [{
    Sets `window = W` (W keys, the query included) and `causal` on every
    `attn.attention` that is not marked `attn.keep_full` and, when `layers`
    is given, whose layer it selects (a layer spec, default `all`). A layer
    with the model's own window (`attn.native_window`) keeps it; any other
    layer that already had a window gets the new one, and its sinks stay. Every
    attention it rewrites must already be causal: a bidirectional attention
    has no sliding window in the SWAA sense, and is reported.
  }];
  let options = [
    Option<"window", "window", "int64_t", /*default=*/"0",
           "keys each query sees, itself included (W >= 1)">,
    Option<"layers", "layers", "std::string", /*default=*/"\"all\"",
           "the layers to window (a layer spec)">,
  ];
}

def AttnKeepSinksPass : Pass<"attn-keep-sinks"> {
  let summary = "keep the first tokens visible to every query (sink tokens)";
  let description = [{
    Sets `sinks = S` on every windowed `attn.attention`: the first S tokens of
    the sequence stay visible to every query (SWAA's `keep_first`). Full
    attention layers see every token already and are left alone, and so are
    layers with the model's own window (`attn.native_window`).
  }];
  let options = [
    Option<"sinks", "sinks", "int64_t", /*default=*/"0",
           "number of sink tokens (S >= 0)">,
  ];
}

def AttnSplitPrefillDecodePass
    : Pass<"attn-split-prefill-decode", "::mlir::ModuleOp"> {
  let summary = "split the model into @prefill and @decode with a KV cache";
  let description = [{
    Turns the imported model function (`entry`, default `forward`) into two
    functions with the KV cache as explicit state:

    - `@prefill(<model inputs>, <caches>)` runs the prompt from position 0
      with every layer's attention as configured (SWA or full), writes each
      layer's keys and values into its caches (`attn.cache_append`) and
      returns the model's outputs and the updated caches;
    - `@decode(<model inputs>, %pos, <caches>)` runs new tokens at position
      `%pos`: each layer appends its keys/values at `%pos` and attends to the
      cache (`attn.cache_attention`).

    `fa-decode` (`true`, `false` or a layer spec) selects the layers whose
    decode attention is full over the whole cache while prefill keeps SWA;
    the other windowed layers keep window + sinks in decode too. Layers with
    the model's own window (`attn.native_window`) decode with it: `true`
    passes them over, a spec that names them is an error. A layer
    whose decode is windowed gets a ring cache of `W + S` slots (constant
    memory in the context length); every other layer a full cache sized by
    the session's maximum context. The policy is recorded on each cache
    argument and result as `swaa.kv_cache = {layer, kind, policy, window,
    sinks}` for the runtime.

    The model's own past key/value inputs and present outputs (tagged by the
    importer) are replaced by the caches; their lengths become `%pos` (0 in
    prefill). A model exported without past key/values gets `@prefill` only,
    with a warning.
  }];
  let options = [
    Option<"entry", "entry", "std::string", /*default=*/"\"forward\"",
           "the model function to split">,
    Option<"faDecode", "fa-decode", "std::string", /*default=*/"\"false\"",
           "layers with full-attention decode: true, false or a layer spec">,
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::tensor::TensorDialect",
  ];
}

#endif // SWAA_PASSES_PASSES_TD
