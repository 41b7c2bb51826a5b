package engine

import (
	"fmt"
	"math"
)

// passWork is the work of one pass of a text-generation phase over the
// whole batch, before it is split over GPUs.
type passWork struct {
	rows         float64 // rows of each matrix product: batch × tokens per sequence
	matFLOPs     float64 // weight matrix products
	attnFLOPs    float64 // attention scores and their weighted sums
	weightBytes  float64 // weights streamed once per pass
	kvBytes      float64 // KV cache read and written
	trafficBytes float64 // elementwise activation traffic (norms, rotary, softmax, residuals)
	dequantBytes float64 // unfused dequantization: fp16 copies of int4 weights written and read back
	dequantOps   float64 // fused dequantization work on the vector units
	layers       int
	hidden       float64 // width of the activations collectives move
	// rowElems is the activations per row a row split moves per pass: each
	// product's input broadcast to the other GPUs, its output gathered.
	rowIn, rowOut float64
	matmuls       int // weight matrix products per pass
}

// unfusedRows is the matrix height from which runtimes dequantize int4
// weights into a 16-bit copy and call a dense GEMM (llama.cpp's cuBLAS path
// above 32 rows); below it the dequantization is fused into the kernel.
const unfusedRows = 32

// passWork derives the work of a prefill (over the prompt) or a decode step
// (one token per sequence at the configuration's mean context).
func (a *Architecture) passWork(cfg Config, phase Phase, fusedDequant bool) passWork {
	b := float64(cfg.BatchSize)
	prompt := float64(max(cfg.PromptTokens, 1))
	wBytes := cfg.weightBits() / 8
	ab := cfg.Precision.BytesPerActivation()
	kvb := cfg.kvBytes()
	encDec := false
	for _, s := range a.Stacks {
		encDec = encDec || !s.Causal
	}
	var w passWork
	var streamed float64
	for _, s := range a.Stacks {
		var t, prior, cross float64 // tokens per sequence, cached self context, cross-attended tokens
		switch {
		case phase == Decode && !s.Causal:
			continue
		case phase == Decode:
			t, prior = 1, float64(cfg.meanContext())
		case s.Causal && encDec:
			t = 1 // the decoder starts from one token beside the encoded prompt
		default:
			t = prompt
		}
		if s.Causal && s.CrossTokens != 0 {
			cross = prompt
		}
		n := b * t
		l := float64(s.Layers)
		h, inner, kvDim := float64(s.Hidden), float64(s.Heads*s.headDim()), s.kvDim()
		ff := s.activeFF()
		perToken := l * (s.attnParams() + s.activeMLPParams())
		if cross > 0 {
			perToken += l * 2 * h * inner // cross-attention Q and O
			if phase == Prefill {
				w.matFLOPs += 2 * b * cross * l * 2 * h * kvDim // cross K and V of the encoded prompt, once
			}
		}
		w.matFLOPs += 2 * n * perToken
		pairs := t * t // bidirectional
		if s.Causal {
			pairs = t*prior + t*(t+1)/2
		}
		w.attnFLOPs += 4 * inner * l * b * (pairs + t*cross)
		sp := s.params(n)
		streamed += sp
		w.weightBytes += sp * wBytes
		kvRow := l * 2 * kvDim * kvb
		if s.Causal {
			w.kvBytes += 2*n*kvRow + b*prior*kvRow // write the new entries (and read them back), read the cache
			if phase == Prefill {
				w.kvBytes += 2 * b * cross * kvRow
			} else {
				w.kvBytes += b * cross * kvRow
			}
		}
		w.trafficBytes += n * l * (10*h + 2*ff) * ab
		w.layers += s.Layers
		w.hidden = h
		in, out := 3*h+inner+ff, inner+2*kvDim+h+h
		w.matmuls += 6 * s.Layers
		if s.GatedMLP {
			in, out = in+2*h, out+2*ff
			w.matmuls += s.Layers
		} else {
			in, out = in+h, out+ff
		}
		w.rowIn += n * l * in
		w.rowOut += n * l * out
		w.rows = math.Max(w.rows, n)
	}
	if a.LMHead && a.Vocab > 0 && len(a.Stacks) > 0 {
		// Logits of the last position of each sequence only.
		h := float64(a.Stacks[len(a.Stacks)-1].Hidden)
		w.matFLOPs += 2 * b * h * float64(a.Vocab)
		w.weightBytes += h * float64(a.Vocab) * wBytes
		streamed += h * float64(a.Vocab)
		w.matmuls++
	}
	if cfg.weightOnly() {
		if w.rows > unfusedRows && !fusedDequant {
			w.dequantBytes = streamed * 4
		} else {
			w.dequantOps = streamed * 2
		}
	}
	return w
}

// phaseTiming is the analytic time of one pass, in ms.
type phaseTiming struct {
	computeMS, memoryMS, overheadMS, commMS, latencyMS float64
	// syncMS is the part of commMS spent on per-transfer latency; the rest
	// moves bytes over the links.
	syncMS float64
}

// syncMS is the latency of one synchronisation between GPUs and of each
// further GPU it involves: ~25 µs + 10 µs a GPU for copies staged through
// the host (12 GB/s links), falling with faster links to the few µs of
// direct NVLink transfers.
func syncMS(icGBps float64, gpus float64) float64 {
	return math.Max(0.005, 0.3/icGBps) + (gpus-1)*math.Max(0.002, 0.12/icGBps)
}

// gemmHalfRows is the matrix height at which a product reaches half of the
// efficiency it has when tall: tensor-core tiles are 64–128 rows high.
const gemmHalfRows = 64

// passTime turns a pass's work into time on the device: launch overhead,
// then the larger of matrix work and weight/KV streaming, then the
// elementwise traffic and dequantization that run between the products,
// then the traffic between GPUs.
func passTime(w passWork, h *Hardware, cfg Config, phase Phase) phaseTiming {
	k := h.llmKnobs()
	g := float64(cfg.GPUs())
	// Matrix units waste the rows of a tile a short product leaves empty;
	// below that, runtimes switch to matrix-vector kernels on the vector
	// units, which waste nothing.
	vector := h.vectorPeak() * 1e12 * k.computeEff / k.slowdown
	rate := math.Max(h.EffectivePeak(cfg.Precision)*1e12/k.slowdown*k.llmComputeEff*w.rows/(w.rows+gemmHalfRows), vector)
	bw := h.MemoryBandwidthGBps * 1e9 * k.bandwidthEff / k.slowdown

	mat, attn := w.matFLOPs, w.attnFLOPs
	stream, kv, elementwise := w.weightBytes, w.kvBytes, w.trafficBytes+w.dequantBytes
	dequant := w.dequantOps
	var t phaseTiming
	ic := h.interconnectGBps() * 1e9
	sync := syncMS(h.interconnectGBps(), g)
	ab := cfg.Precision.BytesPerActivation()
	switch par := cfg.Parallelism; {
	case g <= 1:
	case par == Layer:
		// The stages run one after another for a token; each hands its
		// activations to the next.
		t.syncMS = (g - 1) * syncMS(h.interconnectGBps(), 1)
		t.commMS = t.syncMS + (g-1)*w.rows*w.hidden*ab/ic*1000
	case par == Row:
		// Products split over the GPUs; everything else stays on the main
		// GPU, which broadcasts each product's input and gathers its output
		// (in fp32, as llama.cpp keeps activations).
		mat, stream, dequant = mat/g, stream/g, dequant/g
		moved := (g-1)*w.rowIn + (g-1)/g*w.rowOut
		t.syncMS = float64(w.matmuls) * sync
		t.commMS = t.syncMS + moved*4/ic*1000
	default: // tensor
		mat, attn, stream, kv, elementwise, dequant = mat/g, attn/g, stream/g, kv/g, elementwise/g, dequant/g
		allReduces := 2 * float64(w.layers)
		bytes := w.rows * w.hidden * ab
		t.syncMS = allReduces * sync
		t.commMS = t.syncMS + allReduces*2*(g-1)/g*bytes/ic*1000
	}
	t.computeMS = (mat + attn) / rate * 1000
	t.memoryMS = (stream + kv) / bw * 1000
	layerMS := k.tokenLayerMS
	if phase == Prefill {
		layerMS = k.layerMS
	}
	t.overheadMS = k.overheadMS + layerMS*float64(w.layers)
	t.latencyMS = t.overheadMS + math.Max(t.computeMS, t.memoryMS) + elementwise/bw*1000 + dequant/vector*1000 + t.commMS
	return t
}

// prefillChunk is the most prompt tokens runtimes push through one pass
// (vLLM's max_num_batched_tokens, llama.cpp's batch): longer prompts and
// larger batches are prefilled in chunks, so activations stop growing.
const prefillChunk = 8192

// generationMemory is the memory of a text-generation configuration in
// bytes over all its GPUs: weights (all experts), the KV cache reserved per
// sequence, the live activations of the batch's prefill (and of a full
// chunk, which bounds any batch), and each GPU's runtime footprint.
type generationMemory struct {
	weights, kvPerSeq, activations, chunkActivations, runtime float64
}

func (a *Architecture) generationMemory(cfg Config, h *Hardware) generationMemory {
	k := h.llmKnobs()
	m := generationMemory{
		weights:  a.Params * cfg.weightBits() / 8,
		kvPerSeq: float64(cfg.reservedContext()) * a.KVBytesPerToken(cfg.kvBytes()),
		runtime:  float64(cfg.GPUs()) * k.runtimeMB * (1 << 20),
	}
	ab := cfg.Precision.BytesPerActivation()
	act := func(rows float64, seqs int) float64 {
		// No materialised attention scores (runtimes tile attention); the
		// last positions' logits in fp32.
		peak := 0.0
		for _, s := range a.Stacks {
			width := math.Max(2*s.activeFF(), 3*float64(s.Hidden))
			peak = math.Max(peak, rows*(2*float64(s.Hidden)+width)*ab)
		}
		return peak + float64(seqs*a.Vocab)*4
	}
	rows := math.Min(float64(cfg.BatchSize*max(cfg.PromptTokens, 1)), prefillChunk)
	m.activations = act(rows, cfg.BatchSize)
	m.chunkActivations = act(prefillChunk, prefillChunk/max(cfg.PromptTokens, 1)+1)
	return m
}

// generationRoofline is RooflineFor's text-generation branch: a prefill, a
// decode step, or a whole request (TTFT + (output−1) × TPOT at the mean
// context).
func generationRoofline(m *Model, h *Hardware, cfg Config) Roofline {
	k := h.llmKnobs()
	a := &m.Arch
	r := Roofline{Supported: h.Supports(cfg.Precision)}
	var prefill, decode phaseTiming
	var wp, wd passWork
	if cfg.Phase != Decode {
		wp = a.passWork(cfg, Prefill, k.fusedDequant)
		prefill = passTime(wp, h, cfg, Prefill)
		r.TTFTMS = prefill.latencyMS
	}
	if cfg.Phase != Prefill {
		wd = a.passWork(cfg, Decode, k.fusedDequant)
		decode = passTime(wd, h, cfg, Decode)
		r.TPOTMS = decode.latencyMS
	}
	switch cfg.Phase {
	case Prefill:
		r.ComputeMS, r.MemoryMS, r.OverheadMS, r.CommMS, r.LatencyMS = prefill.computeMS, prefill.memoryMS, prefill.overheadMS, prefill.commMS, prefill.latencyMS
		r.CommSyncMS = prefill.syncMS
		r.GFLOPs = (wp.matFLOPs + wp.attnFLOPs) / float64(cfg.BatchSize) / 1e9
	case Decode:
		r.ComputeMS, r.MemoryMS, r.OverheadMS, r.CommMS, r.LatencyMS = decode.computeMS, decode.memoryMS, decode.overheadMS, decode.commMS, decode.latencyMS
		r.CommSyncMS = decode.syncMS
		r.GFLOPs = (wd.matFLOPs + wd.attnFLOPs) / float64(cfg.BatchSize) / 1e9
	default:
		steps := float64(max(cfg.OutputTokens, 1) - 1)
		r.ComputeMS = prefill.computeMS + steps*decode.computeMS
		r.MemoryMS = prefill.memoryMS + steps*decode.memoryMS
		r.OverheadMS = prefill.overheadMS + steps*decode.overheadMS
		r.CommMS = prefill.commMS + steps*decode.commMS
		r.CommSyncMS = prefill.syncMS + steps*decode.syncMS
		r.LatencyMS = r.TTFTMS + steps*r.TPOTMS
		r.GFLOPs = (wp.matFLOPs + wp.attnFLOPs + steps*(wd.matFLOPs+wd.attnFLOPs)) / float64(cfg.BatchSize) / 1e9
	}
	mem := a.generationMemory(cfg, h)
	b := float64(cfg.BatchSize)
	total := mem.weights + b*mem.kvPerSeq + mem.activations + mem.runtime
	usable := float64(cfg.GPUs()) * h.UsableMemoryMB() * (1 << 20)
	r.MemoryMB = total / (1 << 20)
	r.KVCacheMB = b * mem.kvPerSeq / (1 << 20)
	if mem.kvPerSeq > 0 {
		free := usable - mem.weights - math.Max(mem.activations, mem.chunkActivations) - mem.runtime
		r.MaxConcurrency = int(math.Max(0, math.Floor(free/mem.kvPerSeq)))
	}
	maxGPUs := h.MaxGPUs()
	switch {
	case !r.Supported:
		r.Reason = fmt.Sprintf("%s has no %s support", h.ID, cfg.Precision)
	case cfg.GPUs() > maxGPUs:
		r.Reason = fmt.Sprintf("%s comes at most %d to a machine, not %d", h.ID, maxGPUs, cfg.GPUs())
	case total > usable:
		r.Reason = fmt.Sprintf("out of memory: needs %.0f MB (weights %.0f, KV cache %.0f) of %.0f MB", r.MemoryMB,
			mem.weights/(1<<20), r.KVCacheMB, usable/(1<<20))
	default:
		r.Feasible = true
	}
	return r
}
