#!/usr/bin/env bash
# Two simulated nodes (issue 17): two network namespaces on this machine joined by a veth pair
# (10.77.0.1/24 and 10.77.0.2/24), each "node" with its own host name (a UTS namespace), and Open
# MPI launched across them by a launcher agent that enters the other namespace (`ip netns exec`)
# where a cluster would use ssh. One rank per node; the ranks talk over TCP only (pml ob1, btl
# tcp,self on 10.77.0.0/24: no shared memory between the nodes). Checks:
#   - `mdrl info` reports 2 ranks on 2 nodes, one on each host name;
#   - a short SFT run on the tiny preset across the two nodes ends with final weights byte-equal to
#     the same run on one node with 2 ranks, and its gradient all-reduces went over the veth pair
#     (the bytes the link carried are at least half the weights per step).
# Needs root (network and UTS namespaces) and iproute2; without them it exits 77 (CTest skip) with
# the reason. The namespaces (and with them the veth pair) are removed on exit, also on failure.
# Environment (CTest sets it): MDRL_EXE, MPIEXEC. Usage: test_two_nodes.sh
set -uo pipefail

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }

MDRL_EXE="${MDRL_EXE:?MDRL_EXE is not set; run through ctest}"
MPIEXEC="${MPIEXEC:-mpirun}"
[[ $(id -u) -eq 0 ]] || skip "network namespaces need root (this is uid $(id -u))"
command -v ip >/dev/null || skip "iproute2 (ip) is not installed"
command -v unshare >/dev/null || skip "unshare (util-linux) is not installed"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

# Names unique to this process, so parallel runs do not collide (interface names: 15 characters).
tag="$$"
NS0="mdrl${tag}n0" NS1="mdrl${tag}n1" V0="mdv${tag}a" V1="mdv${tag}b"
WORK="$(mktemp -d /tmp/mdrl-two-nodes-XXXXXX)"
cleanup() {
  ip netns del "$NS0" 2>/dev/null
  ip netns del "$NS1" 2>/dev/null
  ip link del "$V0" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

ip netns add "$NS0" 2>"$WORK/err" || skip "cannot create a network namespace: $(cat "$WORK/err")"
ip netns add "$NS1" 2>"$WORK/err" || skip "cannot create a network namespace: $(cat "$WORK/err")"
ip link add "$V0" type veth peer name "$V1" 2>"$WORK/err" || skip "cannot create a veth pair: $(cat "$WORK/err")"
ip link set "$V0" netns "$NS0" && ip link set "$V1" netns "$NS1" &&
  ip -n "$NS0" addr add 10.77.0.1/24 dev "$V0" && ip -n "$NS1" addr add 10.77.0.2/24 dev "$V1" &&
  ip -n "$NS0" link set lo up && ip -n "$NS1" link set lo up &&
  ip -n "$NS0" link set "$V0" up && ip -n "$NS1" link set "$V1" up || skip "cannot configure the veth pair"
ip netns exec "$NS0" unshare --uts true 2>"$WORK/err" || skip "cannot create a UTS namespace: $(cat "$WORK/err")"

# The ssh stand-in: agent [options] HOST COMMAND... runs COMMAND (one shell line, as ssh does) in
# the namespace of HOST, under that node's host name.
cat >"$WORK/agent.sh" <<EOF
#!/bin/bash
while [[ \$# -gt 0 && "\$1" == -* ]]; do shift; done
host="\$1"; shift
case "\$host" in
  10.77.0.1) ns=$NS0; name=mdrl-node0;;
  10.77.0.2) ns=$NS1; name=mdrl-node1;;
  *) echo "agent: unknown host \$host" >&2; exit 255;;
esac
echo "\$host" >> "$WORK/agent.log"
exec ip netns exec "\$ns" unshare --uts bash -c 'hostname "\$0" && eval "\$1"' "\$name" "\$*"
EOF
chmod +x "$WORK/agent.sh"
printf '10.77.0.1 slots=1\n10.77.0.2 slots=1\n' >"$WORK/hosts"

# mpirun runs on node 0 (its own rank starts there directly; node 1's daemon through the agent).
two_nodes() {
  timeout 120 ip netns exec "$NS0" unshare --uts bash -c 'hostname mdrl-node0 && exec "$@"' two_nodes \
    "$MPIEXEC" -np 2 --hostfile "$WORK/hosts" --map-by node --bind-to none \
    --mca plm_rsh_agent "$WORK/agent.sh" --mca pml ob1 --mca btl tcp,self \
    --mca btl_tcp_if_include 10.77.0.0/24 --mca oob_tcp_if_include 10.77.0.0/24 "$@"
}
link_bytes() {
  local tx rx
  tx=$(ip netns exec "$NS0" cat "/sys/class/net/$V0/statistics/tx_bytes") || return 1
  rx=$(ip netns exec "$NS0" cat "/sys/class/net/$V0/statistics/rx_bytes") || return 1
  echo $((tx + rx))
}

t0=$SECONDS
info="$(two_nodes "$MDRL_EXE" info 2>&1)" || fail "mdrl info across the two nodes failed:
$info"
echo "$info"
grep -q "world size     2 rank(s) on 2 node(s)" <<<"$info" || fail "mdrl info does not report 2 ranks on 2 nodes"
grep -Eq '^ +0 +mdrl-node0 +0 +0/1 ' <<<"$info" || fail "rank 0 is not on mdrl-node0 (node 0, local 0/1)"
grep -Eq '^ +1 +mdrl-node1 +1 +0/1 ' <<<"$info" || fail "rank 1 is not on mdrl-node1 (node 1, local 0/1)"
grep -qx 10.77.0.2 "$WORK/agent.log" || fail "the launcher agent was not used for 10.77.0.2"

STEPS=6
SFT=(sft --model.preset=tiny --sft.task=sudoku --sft.prompt_style=bare --sft.response_style=answer
  --tasks.generated_count=64 --sft.max_length=128 --sft.eval_fraction=0 --train.lr=3e-3
  --train.batch_size=4 --train.grad_accum=2 --train.max_steps=$STEPS --train.eval_every=0 --lora.rank=0
  --checkpoint.every=3)
before=$(link_bytes)
out="$(two_nodes "$MDRL_EXE" "${SFT[@]}" --run.dir="$WORK/two_nodes" 2>&1)" || fail "SFT across the two nodes failed:
$out"
carried=$(( $(link_bytes) - before ))
out1="$(timeout 120 "$MPIEXEC" -np 2 --oversubscribe --bind-to none "$MDRL_EXE" "${SFT[@]}" --run.dir="$WORK/one_node" 2>&1)" ||
  fail "SFT on one node with 2 ranks failed:
$out1"
w2="$WORK/two_nodes/final/model.safetensors" w1="$WORK/one_node/final/model.safetensors"
[[ -s "$w2" && -s "$w1" ]] || fail "a run left no final/model.safetensors"
size=$(stat -c %s "$w1")
echo "two nodes: $(grep -c '^\[.*step [0-9]*/' <<<"$out") step lines; veth pair carried $carried bytes ($STEPS steps, weights $size bytes)"
cmp "$w2" "$w1" || fail "final weights across two nodes differ from the one-node run"
(( carried >= STEPS * size / 2 )) || fail "the veth pair carried only $carried bytes: the gradients did not go over TCP between the nodes"
echo "PASS: 2 nodes reported, final weights byte-equal to the one-node run ($((SECONDS - t0)) s)"
