// Activation checkpointing of one LLaDA block: forward without saving activations, backward
// recomputes the block with gradients on and differentiates it. LoRA dropout draws from the
// model's private generator, whose state is saved before the forward and replayed for the
// recomputation, so gradients equal those of the plain path exactly.
#include <torch/torch.h>

#include "model/llada.hpp"

namespace mdrl::model {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// Lives in the autograd node (as an IValue capsule) until the graph is freed.
struct BlockState : torch::CustomClassHolder {
  BlockState(LladaBlockImpl* b, RotaryTables r, std::shared_ptr<AdapterSwitch> a, RowWindow w)
      : block(b), rope(std::move(r)), adapters(std::move(a)), adapters_enabled(adapters->enabled), window(w) {}
  LladaBlockImpl* block;
  RotaryTables rope;
  std::shared_ptr<AdapterSwitch> adapters;
  bool adapters_enabled;
  RowWindow window;
  at::Tensor rng_state;
};

class CheckpointFn : public torch::autograd::Function<CheckpointFn> {
 public:
  // params: the block's parameters that require grad (so autograd routes their gradients here).
  static torch::Tensor forward(AutogradContext* ctx, torch::Tensor x, std::optional<torch::Tensor> key_mask,
                               torch::TensorList params,
                               c10::intrusive_ptr<BlockState> state) {
    {
      std::lock_guard<std::mutex> lock(state->adapters->dropout_gen.mutex());
      state->rng_state = state->adapters->dropout_gen.get_state();
    }
    state->adapters_enabled = state->adapters->enabled;
    torch::Tensor out;
    {
      torch::NoGradGuard no_grad;
      out = state->block->forward(x, key_mask.value_or(torch::Tensor()), state->rope, state->window);
    }
    ctx->save_for_backward({x});
    ctx->saved_data["key_mask"] = key_mask.has_value() ? c10::IValue(*key_mask) : c10::IValue();
    ctx->saved_data["state"] = c10::IValue::make_capsule(state);
    return out;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_out) {
    const auto state = c10::static_intrusive_pointer_cast<BlockState>(ctx->saved_data["state"].toCapsule());
    const c10::IValue& km = ctx->saved_data["key_mask"];
    const torch::Tensor key_mask = km.isNone() ? torch::Tensor() : km.toTensor();
    const torch::Tensor x = ctx->get_saved_variables()[0].detach().requires_grad_(true);

    // Replay the dropout stream and the adapter switch as they were in the forward.
    at::Tensor now;
    {
      std::lock_guard<std::mutex> lock(state->adapters->dropout_gen.mutex());
      now = state->adapters->dropout_gen.get_state();
      state->adapters->dropout_gen.set_state(state->rng_state);
    }
    const bool was = state->adapters->enabled;
    state->adapters->enabled = state->adapters_enabled;
    torch::Tensor out;
    {
      torch::AutoGradMode grad(true);
      out = state->block->forward(x, key_mask, state->rope, state->window);
    }
    state->adapters->enabled = was;
    {
      std::lock_guard<std::mutex> lock(state->adapters->dropout_gen.mutex());
      state->adapters->dropout_gen.set_state(now);
    }

    std::vector<torch::Tensor> inputs = {x};
    for (const auto& p : state->block->parameters())
      if (p.requires_grad()) inputs.push_back(p);
    const auto grads = torch::autograd::grad({out}, inputs, {grad_out[0]}, /*retain_graph=*/false,
                                             /*create_graph=*/false, /*allow_unused=*/true);
    // One gradient per forward input: x, key_mask, each parameter, the state pointer.
    variable_list result = {grads[0], torch::Tensor()};
    for (size_t i = 1; i < grads.size(); ++i) result.push_back(grads[i]);
    result.push_back(torch::Tensor());
    return result;
  }
};

}  // namespace

torch::Tensor checkpointed_block(LladaBlockImpl& block, const torch::Tensor& x, const torch::Tensor& key_mask,
                                 const RotaryTables& rope, const std::shared_ptr<AdapterSwitch>& adapters,
                                 RowWindow window) {
  std::vector<torch::Tensor> params;
  for (const auto& p : block.parameters())
    if (p.requires_grad()) params.push_back(p);
  return CheckpointFn::apply(x, key_mask.defined() ? std::optional(key_mask) : std::nullopt, torch::TensorList(params), c10::make_intrusive<BlockState>(&block, rope, adapters, window));
}

}  // namespace mdrl::model
