package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
)

// Stack is one transformer stack (encoder, decoder, or a tower of a
// multimodal model). Tokens of zero means "the configuration's sequence length".
type Stack struct {
	Name         string
	Layers       int
	Hidden       int
	Heads        int
	KVHeads      int // grouped-query attention; 0 = Heads
	HeadDim      int // 0 = Hidden/Heads
	Intermediate int
	GatedMLP     bool // SwiGLU-style: three matrices
	Tokens       int
	Causal       bool // keeps a KV cache
	CrossTokens  int  // >0: cross-attention over this many encoder tokens (-1: the sequence length)
	// Mixture of experts: a sparse layer holds Experts MLPs of width
	// ExpertFF (0: Intermediate) and routes each token to TopK (0: 1) of
	// them, beside an always-active shared expert of width SharedFF. Every
	// SparseEvery-th layer after the first DenseFirst is sparse.
	Experts     int
	TopK        int
	SparseEvery int
	DenseFirst  int
	ExpertFF    int
	SharedFF    int
}

// ConvNet describes a ResNet-style CNN.
type ConvNet struct {
	Channels      int
	ImageSize     int
	EmbeddingSize int
	Depths        []int
	HiddenSizes   []int
	Bottleneck    bool
}

// Architecture is what FLOPs, bytes and memory are derived from.
type Architecture struct {
	Family         string // encoder, decoder, encoder-decoder, vit, cnn, audio, clip
	Stacks         []Stack
	Conv           *ConvNet
	Vocab          int
	LMHead         bool // decoder logits over all positions
	TiedEmbeddings bool
	SequenceLength int  // default tokens per item for text stacks
	FixedInput     bool // image/audio: sequence length is fixed by the input
	Params         float64
	extraFLOPs     float64 // fixed per-item front-end work (patch embedding, audio convs)
	extraParams    float64
}

// hfConfig lists the key names of the supported Hugging Face config styles.
type hfConfig struct {
	ModelType string `json:"model_type"`
	// BERT / ViT / OPT / LLaMA
	HiddenSize       int    `json:"hidden_size"`
	NumHiddenLayers  int    `json:"num_hidden_layers"`
	NumAttentionHead int    `json:"num_attention_heads"`
	NumKeyValueHeads int    `json:"num_key_value_heads"`
	HeadDim          int    `json:"head_dim"`
	IntermediateSize int    `json:"intermediate_size"`
	FFNDim           int    `json:"ffn_dim"`
	VocabSize        int    `json:"vocab_size"`
	MaxPositions     int    `json:"max_position_embeddings"`
	HiddenAct        string `json:"hidden_act"`
	ImageSize        int    `json:"image_size"`
	PatchSize        int    `json:"patch_size"`
	NumChannels      int    `json:"num_channels"`
	TieWordEmbed     *bool  `json:"tie_word_embeddings"`
	// Mixture of experts: Mixtral, Qwen-MoE, OLMoE, Llama-4, DeepSeek key names
	NumLocalExperts    int `json:"num_local_experts"`
	NumExpertsPerTok   int `json:"num_experts_per_tok"`
	NRoutedExperts     int `json:"n_routed_experts"`
	NSharedExperts     int `json:"n_shared_experts"`
	MoEIntermediate    int `json:"moe_intermediate_size"`
	SharedExpertFF     int `json:"shared_expert_intermediate_size"`
	IntermediateMLP    int `json:"intermediate_size_mlp"`
	InterleaveMoEStep  int `json:"interleave_moe_layer_step"`
	MoELayerFreq       int `json:"moe_layer_freq"`
	FirstKDenseReplace int `json:"first_k_dense_replace"`
	KVLoraRank         int `json:"kv_lora_rank"`
	// GPT-2
	NEmbd      int  `json:"n_embd"`
	NLayer     int  `json:"n_layer"`
	NHead      int  `json:"n_head"`
	NInner     *int `json:"n_inner"`
	NPositions int  `json:"n_positions"`
	// T5 / Switch
	DModel          int    `json:"d_model"`
	DFF             int    `json:"d_ff"`
	DKV             int    `json:"d_kv"`
	NumLayers       int    `json:"num_layers"`
	NumDecoderLayer int    `json:"num_decoder_layers"`
	NumHeads        int    `json:"num_heads"`
	FeedForwardProj string `json:"feed_forward_proj"`
	NumExperts      int    `json:"num_experts"`
	EncSparseStep   int    `json:"encoder_sparse_step"`
	DecSparseStep   int    `json:"decoder_sparse_step"`
	// Whisper
	EncoderLayers     int `json:"encoder_layers"`
	DecoderLayers     int `json:"decoder_layers"`
	EncoderHeads      int `json:"encoder_attention_heads"`
	DecoderHeads      int `json:"decoder_attention_heads"`
	EncoderFFN        int `json:"encoder_ffn_dim"`
	DecoderFFN        int `json:"decoder_ffn_dim"`
	NumMelBins        int `json:"num_mel_bins"`
	MaxSourcePosition int `json:"max_source_positions"`
	// ResNet
	Depths        []int  `json:"depths"`
	HiddenSizes   []int  `json:"hidden_sizes"`
	EmbeddingSize int    `json:"embedding_size"`
	LayerType     string `json:"layer_type"`
	// CLIP
	TextConfig   *hfConfig `json:"text_config"`
	VisionConfig *hfConfig `json:"vision_config"`
}

// whisperDecoderTokens is the start-of-transcript prompt a Whisper forward
// pass decodes beside the 30 s encoder pass.
const whisperDecoderTokens = 4

// ArchitectureFromHFConfig reads a Hugging Face config.json.
func ArchitectureFromHFConfig(data []byte, modelType string) (Architecture, error) {
	var c hfConfig
	if err := json.Unmarshal(data, &c); err != nil {
		return Architecture{}, fmt.Errorf("not a config.json: %w", err)
	}
	var a Architecture
	var err error
	switch {
	case c.TextConfig != nil && modelType == "text_generation":
		// A multimodal LLM (Llama-4, Mistral-3, Gemma-3): text generation
		// runs its language model.
		a, err = bertLikeArch(c.TextConfig, modelType)
	case c.TextConfig != nil && c.VisionConfig != nil:
		a, err = clipArch(&c)
	case len(c.Depths) > 0 && len(c.HiddenSizes) > 0:
		a, err = resnetArch(&c)
	case c.NumMelBins > 0 || c.MaxSourcePosition > 0:
		a, err = whisperArch(&c)
	case c.DModel > 0 && (c.NumLayers > 0 || c.DFF > 0):
		a, err = t5Arch(&c)
	case c.NEmbd > 0:
		a, err = gpt2Arch(&c)
	case c.PatchSize > 0 && c.ImageSize > 0:
		a, err = vitArch(&c)
	case c.HiddenSize > 0:
		a, err = bertLikeArch(&c, modelType)
	default:
		return Architecture{}, errors.New("no known architecture keys (hidden_size, n_embd, d_model, depths, text_config/vision_config)")
	}
	if err != nil {
		return Architecture{}, err
	}
	a.finish()
	return a, nil
}

func need(name string, v int) error {
	if v <= 0 {
		return fmt.Errorf("%s missing or not positive", name)
	}
	return nil
}

func firstPositive(vs ...int) int {
	for _, v := range vs {
		if v > 0 {
			return v
		}
	}
	return 0
}

func bertLikeArch(c *hfConfig, modelType string) (Architecture, error) {
	ff := firstPositive(c.IntermediateMLP, c.IntermediateSize, c.FFNDim, 4*c.HiddenSize)
	for _, f := range []struct {
		n string
		v int
	}{{"hidden_size", c.HiddenSize}, {"num_hidden_layers", c.NumHiddenLayers}, {"num_attention_heads", c.NumAttentionHead}, {"vocab_size", c.VocabSize}} {
		if err := need(f.n, f.v); err != nil {
			return Architecture{}, err
		}
	}
	if c.KVLoraRank > 0 {
		// DeepSeek-V2/V3 compress K and V into a latent; projections and KV
		// cache follow other formulas than the ones below.
		return Architecture{}, errors.New("multi-head latent attention (kv_lora_rank) is not modelled; give layers, hidden, heads, params explicitly")
	}
	decoder := modelType == "text_generation" || slices.Contains([]string{"llama", "opt", "mistral", "mixtral", "qwen2", "qwen2_moe", "qwen3", "qwen3_moe", "llama4_text", "olmoe", "phimoe"}, c.ModelType)
	s := Stack{Name: "encoder", Layers: c.NumHiddenLayers, Hidden: c.HiddenSize, Heads: c.NumAttentionHead,
		KVHeads: c.NumKeyValueHeads, HeadDim: c.HeadDim, Intermediate: ff, GatedMLP: c.HiddenAct == "silu" || c.HiddenAct == "swiglu"}
	if e := firstPositive(c.NumLocalExperts, c.NumExperts, c.NRoutedExperts); e > 1 {
		s.Experts, s.TopK = e, firstPositive(c.NumExpertsPerTok, 1)
		s.ExpertFF = firstPositive(c.MoEIntermediate, c.IntermediateSize, ff)
		s.SparseEvery = firstPositive(c.DecSparseStep, c.InterleaveMoEStep, c.MoELayerFreq, 1)
		s.DenseFirst = c.FirstKDenseReplace
		switch {
		case c.SharedExpertFF > 0:
			s.SharedFF = c.SharedExpertFF
		case c.NSharedExperts > 0:
			s.SharedFF = c.NSharedExperts * s.ExpertFF
		case c.ModelType == "llama4_text":
			s.SharedFF = s.ExpertFF // one shared expert beside the routed ones
		}
		if s.TopK > s.Experts {
			return Architecture{}, fmt.Errorf("num_experts_per_tok %d exceeds the %d experts", s.TopK, s.Experts)
		}
	}
	a := Architecture{Family: "encoder", Vocab: c.VocabSize, SequenceLength: 128}
	if decoder {
		s.Name, s.Causal = "decoder", true
		a.Family, a.LMHead = "decoder", true
		a.TiedEmbeddings = c.ModelType == "opt"
		if c.TieWordEmbed != nil {
			a.TiedEmbeddings = *c.TieWordEmbed
		}
	}
	a.Stacks = []Stack{s}
	return a, nil
}

func gpt2Arch(c *hfConfig) (Architecture, error) {
	for _, f := range []struct {
		n string
		v int
	}{{"n_layer", c.NLayer}, {"n_head", c.NHead}, {"vocab_size", c.VocabSize}} {
		if err := need(f.n, f.v); err != nil {
			return Architecture{}, err
		}
	}
	ff := 4 * c.NEmbd
	if c.NInner != nil && *c.NInner > 0 {
		ff = *c.NInner
	}
	return Architecture{Family: "decoder", Vocab: c.VocabSize, LMHead: true, TiedEmbeddings: true, SequenceLength: 128,
		Stacks: []Stack{{Name: "decoder", Layers: c.NLayer, Hidden: c.NEmbd, Heads: c.NHead, Intermediate: ff, Causal: true}}}, nil
}

func t5Arch(c *hfConfig) (Architecture, error) {
	heads := c.NumHeads
	for _, f := range []struct {
		n string
		v int
	}{{"num_layers", c.NumLayers}, {"num_heads", heads}, {"d_ff", c.DFF}, {"vocab_size", c.VocabSize}} {
		if err := need(f.n, f.v); err != nil {
			return Architecture{}, err
		}
	}
	dec := firstPositive(c.NumDecoderLayer, c.NumLayers)
	gated := len(c.FeedForwardProj) >= 5 && c.FeedForwardProj[:5] == "gated"
	headDim := c.DKV
	enc := Stack{Name: "encoder", Layers: c.NumLayers, Hidden: c.DModel, Heads: heads, HeadDim: headDim, Intermediate: c.DFF, GatedMLP: gated}
	de := Stack{Name: "decoder", Layers: dec, Hidden: c.DModel, Heads: heads, HeadDim: headDim, Intermediate: c.DFF, GatedMLP: gated, Causal: true, CrossTokens: -1}
	if c.NumExperts > 1 {
		enc.Experts, enc.SparseEvery = c.NumExperts, firstPositive(c.EncSparseStep, 2)
		de.Experts, de.SparseEvery = c.NumExperts, firstPositive(c.DecSparseStep, 2)
	}
	return Architecture{Family: "encoder-decoder", Vocab: c.VocabSize, LMHead: true, TiedEmbeddings: c.NumExperts <= 1 && c.ModelType == "t5",
		SequenceLength: 128, Stacks: []Stack{enc, de}}, nil
}

func vitArch(c *hfConfig) (Architecture, error) {
	for _, f := range []struct {
		n string
		v int
	}{{"hidden_size", c.HiddenSize}, {"num_hidden_layers", c.NumHiddenLayers}, {"num_attention_heads", c.NumAttentionHead}} {
		if err := need(f.n, f.v); err != nil {
			return Architecture{}, err
		}
	}
	ch := firstPositive(c.NumChannels, 3)
	patches := (c.ImageSize / c.PatchSize) * (c.ImageSize / c.PatchSize)
	tokens := patches + 1
	ff := firstPositive(c.IntermediateSize, 4*c.HiddenSize)
	a := Architecture{Family: "vit", FixedInput: true, SequenceLength: tokens,
		Stacks: []Stack{{Name: "encoder", Layers: c.NumHiddenLayers, Hidden: c.HiddenSize, Heads: c.NumAttentionHead, Intermediate: ff, Tokens: tokens}}}
	pe := float64(ch * c.PatchSize * c.PatchSize * c.HiddenSize)
	a.extraParams = pe + float64(tokens*c.HiddenSize)
	a.extraFLOPs = 2 * pe * float64(patches)
	return a, nil
}

func clipArch(c *hfConfig) (Architecture, error) {
	v, t := c.VisionConfig, c.TextConfig
	if v.PatchSize <= 0 || v.ImageSize <= 0 {
		return Architecture{}, errors.New("vision_config: image_size and patch_size are required")
	}
	va, err := vitArch(v)
	if err != nil {
		return Architecture{}, fmt.Errorf("vision_config: %w", err)
	}
	if err := need("text_config.hidden_size", t.HiddenSize); err != nil {
		return Architecture{}, err
	}
	if err := need("text_config.num_hidden_layers", t.NumHiddenLayers); err != nil {
		return Architecture{}, err
	}
	textTokens := firstPositive(t.MaxPositions, 77)
	heads := firstPositive(t.NumAttentionHead, t.HiddenSize/64)
	text := Stack{Name: "text", Layers: t.NumHiddenLayers, Hidden: t.HiddenSize, Heads: heads,
		Intermediate: firstPositive(t.IntermediateSize, 4*t.HiddenSize), Tokens: textTokens}
	vs := va.Stacks[0]
	vs.Name = "vision"
	a := Architecture{Family: "clip", FixedInput: true, SequenceLength: vs.Tokens, Vocab: firstPositive(t.VocabSize, 49408),
		Stacks: []Stack{vs, text}, extraFLOPs: va.extraFLOPs, extraParams: va.extraParams + float64(textTokens*t.HiddenSize)}
	return a, nil
}

func whisperArch(c *hfConfig) (Architecture, error) {
	for _, f := range []struct {
		n string
		v int
	}{{"d_model", c.DModel}, {"encoder_layers", c.EncoderLayers}, {"decoder_layers", c.DecoderLayers},
		{"encoder_attention_heads", c.EncoderHeads}, {"num_mel_bins", c.NumMelBins}, {"vocab_size", c.VocabSize}} {
		if err := need(f.n, f.v); err != nil {
			return Architecture{}, err
		}
	}
	src := firstPositive(c.MaxSourcePosition, 1500)
	enc := Stack{Name: "encoder", Layers: c.EncoderLayers, Hidden: c.DModel, Heads: c.EncoderHeads, Intermediate: firstPositive(c.EncoderFFN, 4*c.DModel), Tokens: src}
	dec := Stack{Name: "decoder", Layers: c.DecoderLayers, Hidden: c.DModel, Heads: firstPositive(c.DecoderHeads, c.EncoderHeads),
		Intermediate: firstPositive(c.DecoderFFN, 4*c.DModel), Tokens: whisperDecoderTokens, Causal: true, CrossTokens: src}
	a := Architecture{Family: "audio", FixedInput: true, SequenceLength: src, Vocab: c.VocabSize, LMHead: true, TiedEmbeddings: true,
		Stacks: []Stack{enc, dec}}
	// Two 1-D convolutions (kernel 3) over 2×src mel frames, the second strided.
	d, mel := float64(c.DModel), float64(c.NumMelBins)
	a.extraParams = 3*mel*d + 3*d*d + float64(src)*d
	a.extraFLOPs = 2*float64(2*src)*3*mel*d + 2*float64(src)*3*d*d
	return a, nil
}

func resnetArch(c *hfConfig) (Architecture, error) {
	if len(c.Depths) != len(c.HiddenSizes) {
		return Architecture{}, fmt.Errorf("depths has %d stages but hidden_sizes has %d", len(c.Depths), len(c.HiddenSizes))
	}
	for i, d := range c.Depths {
		if d <= 0 || c.HiddenSizes[i] <= 0 {
			return Architecture{}, fmt.Errorf("stage %d: depth and hidden size must be positive", i)
		}
	}
	conv := &ConvNet{Channels: firstPositive(c.NumChannels, 3), ImageSize: firstPositive(c.ImageSize, 224),
		EmbeddingSize: firstPositive(c.EmbeddingSize, 64), Depths: c.Depths, HiddenSizes: c.HiddenSizes,
		Bottleneck: c.LayerType != "basic"}
	return Architecture{Family: "cnn", FixedInput: true, SequenceLength: conv.ImageSize, Conv: conv}, nil
}

func explicitArchitecture(e *modelEntry) (Architecture, error) {
	for _, f := range []struct {
		n string
		v int
	}{{"layers", e.Layers}, {"hidden", e.Hidden}, {"heads", e.Heads}} {
		if f.v <= 0 {
			return Architecture{}, fieldErr(f.n, "missing architecture: give params, layers, hidden, heads, intermediate, vocab (or config)")
		}
	}
	if e.Hidden%e.Heads != 0 {
		return Architecture{}, fieldErr("heads", "%d does not divide hidden %d", e.Heads, e.Hidden)
	}
	ff := e.Intermediate
	if ff <= 0 {
		ff = 4 * e.Hidden
	}
	family := e.Architecture
	if family == "" {
		switch e.ModelType {
		case "text_generation":
			family = "decoder"
		case "vision":
			family = "vit"
		default:
			family = "encoder"
		}
	}
	seq := e.SequenceLength
	if seq <= 0 {
		seq = 128
	}
	var a Architecture
	switch family {
	case "encoder", "decoder":
		if e.Vocab <= 0 {
			return Architecture{}, fieldErr("vocab", "missing architecture: vocab is required for %s models", family)
		}
		s := Stack{Name: family, Layers: e.Layers, Hidden: e.Hidden, Heads: e.Heads, Intermediate: ff, Causal: family == "decoder"}
		a = Architecture{Family: family, Vocab: e.Vocab, LMHead: family == "decoder", TiedEmbeddings: true, SequenceLength: seq, Stacks: []Stack{s}}
	case "encoder-decoder":
		if e.Vocab <= 0 {
			return Architecture{}, fieldErr("vocab", "missing architecture: vocab is required for encoder-decoder models")
		}
		dec := firstPositive(e.DecoderLayers, e.Layers)
		a = Architecture{Family: family, Vocab: e.Vocab, LMHead: true, TiedEmbeddings: true, SequenceLength: seq, Stacks: []Stack{
			{Name: "encoder", Layers: e.Layers, Hidden: e.Hidden, Heads: e.Heads, Intermediate: ff},
			{Name: "decoder", Layers: dec, Hidden: e.Hidden, Heads: e.Heads, Intermediate: ff, Causal: true, CrossTokens: -1}}}
	case "vit":
		if e.ImageSize <= 0 || e.PatchSize <= 0 {
			return Architecture{}, fieldErr("image_size", "vit models need image_size and patch_size")
		}
		va, err := vitArch(&hfConfig{HiddenSize: e.Hidden, NumHiddenLayers: e.Layers, NumAttentionHead: e.Heads, IntermediateSize: ff, ImageSize: e.ImageSize, PatchSize: e.PatchSize})
		if err != nil {
			return Architecture{}, err
		}
		a = va
	default:
		return Architecture{}, fieldErr("architecture", "unknown %q (valid: encoder, decoder, encoder-decoder, vit; other families need a config)", family)
	}
	a.finish()
	return a, nil
}

// finish derives the parameter count.
func (a *Architecture) finish() {
	p := a.extraParams
	if a.Conv != nil {
		_, cp := a.Conv.cost()
		p += cp
	}
	for _, s := range a.Stacks {
		p += s.params(math.Inf(1))
	}
	if a.Vocab > 0 && len(a.Stacks) > 0 {
		h := float64(a.Stacks[len(a.Stacks)-1].Hidden)
		if a.Family == "clip" {
			h = float64(a.Stacks[1].Hidden)
		}
		p += float64(a.Vocab) * h
		if a.LMHead && !a.TiedEmbeddings {
			p += float64(a.Vocab) * h
		}
	}
	if a.Params <= 0 {
		a.Params = p
	}
}

func (s Stack) headDim() int {
	if s.HeadDim > 0 {
		return s.HeadDim
	}
	return s.Hidden / max(s.Heads, 1)
}

func (s Stack) kvDim() float64 {
	kv := s.KVHeads
	if kv <= 0 {
		kv = s.Heads
	}
	return float64(kv * s.headDim())
}

// ffParams is the size of one MLP of width ff.
func (s Stack) ffParams(ff int) float64 {
	k := 2.0
	if s.GatedMLP {
		k = 3
	}
	return k * float64(s.Hidden) * float64(ff)
}

func (s Stack) attnParams() float64 {
	h, inner := float64(s.Hidden), float64(s.Heads*s.headDim())
	return 2*h*inner + 2*h*s.kvDim()
}

// sparseLayers counts the mixture-of-experts layers.
func (s Stack) sparseLayers() int {
	if s.Experts <= 1 {
		return 0
	}
	return max(s.Layers-s.DenseFirst, 0) / max(s.SparseEvery, 1)
}

func (s Stack) topK() int { return max(s.TopK, 1) }

// expertsTouched is how many distinct experts of a sparse layer tokens
// routed tokens reach on average (uniform routing; +Inf: all of them).
func (s Stack) expertsTouched(tokens float64) float64 {
	e := float64(s.Experts)
	if math.IsInf(tokens, 1) {
		return e
	}
	return e * (1 - math.Pow(1-float64(s.topK())/e, tokens))
}

// params is the weight count a pass over tokens touches: every dense
// matrix, and on sparse layers the shared expert, the router and the
// experts the tokens are routed to (+Inf tokens: all parameters).
func (s Stack) params(tokens float64) float64 {
	sparse := s.sparseLayers()
	p := float64(s.Layers)*s.attnParams() + float64(s.Layers-sparse)*s.ffParams(s.Intermediate)
	if s.CrossTokens != 0 {
		p += float64(s.Layers) * s.attnParams()
	}
	if sparse > 0 {
		expert := s.ffParams(firstPositive(s.ExpertFF, s.Intermediate))
		perLayer := s.expertsTouched(tokens)*expert + s.ffParams(s.SharedFF) + float64(s.Hidden*s.Experts)
		p += float64(sparse) * perLayer
	}
	return p
}

// activeMLPParams is the MLP weight one token multiplies with, averaged
// over the layers: the dense MLP, or top-k experts plus the shared one.
func (s Stack) activeMLPParams() float64 {
	sparse := s.sparseLayers()
	p := float64(s.Layers-sparse) * s.ffParams(s.Intermediate)
	if sparse > 0 {
		expert := s.ffParams(firstPositive(s.ExpertFF, s.Intermediate))
		p += float64(sparse) * (float64(s.topK())*expert + s.ffParams(s.SharedFF) + float64(s.Hidden*s.Experts))
	}
	return p / float64(max(s.Layers, 1))
}

// activeFF is the MLP width a token passes through, averaged over layers.
func (s Stack) activeFF() float64 {
	k := 2.0
	if s.GatedMLP {
		k = 3
	}
	return s.activeMLPParams() / (k * float64(max(s.Hidden, 1)))
}

// stackCost is per item: FLOPs, activation bytes moved (in activation units),
// peak live activations and KV cache (in activation units).
func (s Stack) cost(tokens int) (flops, traffic, peak, kv float64) {
	t := float64(tokens)
	h, ff := float64(s.Hidden), s.activeFF()
	inner := float64(s.Heads * s.headDim())
	heads := float64(s.Heads)
	cross := 0.0
	if s.CrossTokens != 0 {
		cross = float64(s.CrossTokens)
		if s.CrossTokens < 0 {
			cross = t
		}
	}
	perLayerMACs := t*s.attnParams() + t*s.activeMLPParams() + 2*t*t*inner
	if cross > 0 {
		// Q and O on decoder tokens, K and V on encoder tokens, then attention.
		perLayerMACs += 2*t*h*inner + 2*cross*h*s.kvDim() + 2*t*cross*inner
	}
	flops = 2 * perLayerMACs * float64(s.Layers)
	// Each layer reads and writes its hidden states a handful of times and the
	// attention scores twice.
	perLayerTraffic := t*(10*h+2*ff) + 2*heads*t*t
	traffic = perLayerTraffic * float64(s.Layers)
	mlpWidth := ff
	if s.GatedMLP {
		mlpWidth = 2 * ff
	}
	peak = 2*t*h + t*math.Max(mlpWidth, 3*h) + heads*t*math.Max(t, cross)
	if s.Causal {
		kv = 2 * float64(s.Layers) * t * s.kvDim()
	}
	return
}

// cost returns FLOPs per image and parameter count of a ResNet.
func (c *ConvNet) cost() (flops, params float64) {
	res := float64(c.ImageSize) / 2 // stride-2 stem
	stem := 7 * 7 * float64(c.Channels) * float64(c.EmbeddingSize)
	flops += 2 * stem * res * res
	params += stem
	res /= 2 // max pool
	in := float64(c.EmbeddingSize)
	for i, depth := range c.Depths {
		out := float64(c.HiddenSizes[i])
		for b := 0; b < depth; b++ {
			stride := 1.0
			if b == 0 && i > 0 {
				stride = 2
			}
			outRes := res / stride
			var macs, p float64
			if c.Bottleneck {
				mid := out / 4
				p = in*mid + 9*mid*mid + mid*out
				macs = in*mid*res*res + 9*mid*mid*outRes*outRes + mid*out*outRes*outRes
			} else {
				p = 9*in*out + 9*out*out
				macs = 9*in*out*outRes*outRes + 9*out*out*outRes*outRes
			}
			if in != out || stride != 1 {
				p += in * out
				macs += in * out * outRes * outRes
			}
			flops += 2 * macs
			params += p
			in, res = out, outRes
		}
	}
	params += in * 1000 // classifier
	flops += 2 * in * 1000
	return flops, params
}

// Cost is the work of one item (sequence or image) at a precision.
type Cost struct {
	FLOPs           float64 // per item
	WeightBytes     float64 // whole model at the precision, read once per batch
	TrafficBytes    float64 // activation bytes moved per item
	ActivationBytes float64 // peak live activations per item
	KVBytes         float64 // KV cache per item
	Layers          int     // launch-overhead units
}

// Cost derives the per-item work for a sequence length and precision.
func (a *Architecture) Cost(seq int, p Precision) Cost {
	if seq <= 0 || a.FixedInput {
		seq = a.SequenceLength
	}
	ab := p.BytesPerActivation()
	c := Cost{FLOPs: a.extraFLOPs, WeightBytes: a.Params * p.BytesPerWeight()}
	if a.Conv != nil {
		f, _ := a.Conv.cost()
		c.FLOPs += f
		res := float64(a.Conv.ImageSize) / 4
		first := float64(a.Conv.HiddenSizes[0])
		// Largest feature map: the first stage's output; traffic roughly
		// sums all stages' feature maps read and written.
		c.ActivationBytes = 3 * first * res * res * ab
		traffic := 0.0
		for i, d := range a.Conv.Depths {
			r := res / math.Pow(2, float64(i))
			traffic += float64(d) * 6 * float64(a.Conv.HiddenSizes[i]) * r * r
		}
		c.TrafficBytes = traffic * ab
		for _, d := range a.Conv.Depths {
			c.Layers += d
		}
		c.Layers++
	}
	var peak float64
	for _, s := range a.Stacks {
		tokens := s.Tokens
		if tokens <= 0 {
			tokens = seq
		}
		if s.CrossTokens < 0 {
			s.CrossTokens = seq
		}
		f, tr, pk, kv := s.cost(tokens)
		c.FLOPs += f
		c.TrafficBytes += tr * ab
		peak = math.Max(peak, pk)
		c.KVBytes += kv * ab
		c.Layers += s.Layers
	}
	if a.LMHead && a.Vocab > 0 && len(a.Stacks) > 0 {
		last := a.Stacks[len(a.Stacks)-1]
		tokens := last.Tokens
		if tokens <= 0 {
			tokens = seq
		}
		c.FLOPs += 2 * float64(tokens) * float64(last.Hidden) * float64(a.Vocab)
		logits := float64(tokens) * float64(a.Vocab)
		c.TrafficBytes += logits * ab
		peak = math.Max(peak, logits)
	}
	c.ActivationBytes += peak * ab
	return c
}
