package engine

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"sort"

	"gonum.org/v1/gonum/floats"
)

// Fitting: hyperparameters by maximum a posteriori marginal likelihood on
// (a subsample of) the data, then a robust, per-device reweighting, then the
// posterior on all rows.
//
// Robustness: a heavy-tailed (contaminated normal) likelihood fitted by
// iteratively reweighted least squares on leave-one-out residuals (see
// robustWeight), so one wrong row cannot drag a device. Per-device noise: a
// device whose leave-one-out residuals are larger than the pooled noise
// predicts gets a larger noise variance, shrunk towards the pool with
// kappaPrior pseudo-observations.
const (
	maxHyperRows = 2000
	minHyperRows = 8
	outlierShare = 0.02
	outlierScale = 10.0
	robustRounds = 1
	kappaPrior   = 6.0
	// FlagSigma is how far outside its predictive distribution (in standard
	// deviations, leave-one-out) a measurement must lie to be flagged.
	FlagSigma = 4.0
)

// fitResult holds per-training-row diagnostics of the final fit.
type fitResult struct {
	z      []float64 // leave-one-out standardized residual
	loo    []float64 // leave-one-out predicted mean
	weight []float64 // robust weight (1: fully trusted)
}

// fit chooses hyperparameters, weights and the posterior.
func (b *blr) fit(ctx context.Context, ts *trainSet) (*fitResult, error) {
	n := len(ts.y)
	b.n = n
	b.assignLevels(ts.lev)
	b.devRows = map[string]int{}
	for _, l := range ts.lev {
		b.devRows[l.key[reHardware]]++
	}
	d := b.newDesign(ts.x, ts.lev, b.lev)
	b.order = b.arrowOrder(d)
	if n == 0 {
		b.setPrior()
		return &fitResult{}, nil
	}
	// Hyperparameters and weights are chosen on at most maxHyperRows rows,
	// whose dense blocks are computed once.
	var sub []int
	if n > maxHyperRows {
		rng := rand.New(rand.NewPCG(b.seed, 0x5ab5))
		sub = rng.Perm(n)[:maxHyperRows]
		sort.Ints(sub)
	}
	subRows := sub
	if subRows == nil {
		subRows = make([]int, n)
		for i := range subRows {
			subRows[i] = i
		}
	}
	err := b.cacheRFF(ctx, d, sub, 0)
	if err != nil {
		return nil, err
	}
	w := make([]float64, n)
	robust := make([]float64, n)
	for i := range w {
		w[i], robust[i] = 1, 1
	}
	hp := b.hp
	learn := n >= minHyperRows // too few points to learn hyperparameters: keep the prior
	// Screen under the prior first, so outliers cannot steer the
	// hyperparameters (an outlier fitted as noise would inflate it for every
	// row), then alternate: hyperparameters under the weights, weights under
	// the posterior.
	var s *suff
	for round := 0; ; round++ {
		if s, err = b.gram(ctx, d, sub, w, ts.y, b.dim()); err != nil {
			return nil, err
		}
		// The hyperparameters follow the first weights and are refined under
		// the last (the rounds between move the weights little); evidence
		// leaves the posterior at what it chose.
		if learn && (round == 1 || round == robustRounds+1) {
			// Group variances are learned without the rows alone in a level
			// (withoutLone): first without all of them, and the calibration
			// they are judged under too (looFactor); then without those
			// judged more likely wrong than right. Then the posterior on all
			// rows.
			trusted := robust
			if round == 1 {
				trusted = nil
			}
			hs, bulk, err := b.withoutLone(ctx, d, subRows, w, ts.y, s, trusted)
			if err != nil {
				return nil, err
			}
			if hp, err = b.evidence(ctx, hs, hp); err != nil {
				return nil, err
			}
			if hs != s {
				if round == 1 {
					if b.calib, err = b.calibrate(ctx, d, bulk, w, ts.y); err != nil {
						return nil, err
					}
				}
				if err := b.setPosterior(s, hp); err != nil {
					return nil, err
				}
			}
		} else if err := b.setPosterior(s, hp); err != nil {
			return nil, err
		}
		if round == robustRounds+1 {
			break
		}
		z, _, err := b.loo(ctx, d, subRows, w, ts.y)
		if err != nil {
			return nil, err
		}
		b.reweight(ts.lev, subRows, z, robust, w)
	}
	// Calibrate on the rows the posterior was fitted on: all of them, or the
	// subsample (then refit on everything).
	if b.calib, err = b.calibrate(ctx, d, subRows, w, ts.y); err != nil {
		return nil, err
	}
	// Rows of a device measured only a few times carry its calibration
	// factor as extra noise, so one measurement there moves the device no
	// further than the training devices say it should; rows outside the
	// subsample take their device's noise inflation.
	refit := sub != nil
	for i := range w {
		hw := ts.lev[i].key[reHardware]
		wi := robust[i] / (b.kappaOf(hw) * math.Max(b.varFactor(&ts.lev[i]), 1))
		refit = refit || wi != w[i]
		w[i] = wi
	}
	if refit {
		if s, err = b.gram(ctx, d, nil, w, ts.y, b.dim()); err != nil {
			return nil, err
		}
		if err := b.setPosterior(s, hp); err != nil {
			return nil, err
		}
	}
	var z, loo []float64
	if sub == nil {
		z, loo, err = b.loo(ctx, d, subRows, w, ts.y)
	} else {
		z, loo, err = b.looScreened(ctx, d, w, ts.y)
	}
	if err != nil {
		return nil, err
	}
	return &fitResult{z: z, loo: loo, weight: robust}, nil
}

// evidence sets the posterior at the hyperparameters that maximize the log
// marginal likelihood plus the hyperprior, over the noise and the prior
// variance of every group, with fixed statistics. It iterates MacKay's
// fixed-point updates: with posterior mean m and covariance Σ, a group's
// weights spend γ = Σ (1 − Σ_ii/λ_i) effective parameters, and the
// evidence is stationary at λ = Σ m_i² / γ and σ² = ‖y − Φm‖²_W / (n − γ);
// the hyperprior's pull is added to each equation, which is then solved
// exactly. An update that lowers the objective is halved (in log space)
// until it does not. Each iteration costs one Cholesky factorization and
// one triangular inverse, where a grid search costs one factorization per
// grid point. A group seen at fewer than two levels says nothing about how
// much its levels differ: its variance keeps the prior.
func (b *blr) evidence(ctx context.Context, s *suff, hp hyper) (hyper, error) {
	var learn [nVar]bool
	learn[vLin] = true
	for sc := 0; sc < nScales; sc++ {
		learn[vRBF+sc] = true
	}
	levelsIn := [nGroups]int{}
	for _, g := range b.levGroup {
		levelsIn[g]++
	}
	for g := 0; g < nGroups; g++ {
		learn[vRE+g] = levelsIn[g] >= 2
	}
	group := make([]int, s.P)
	for c := range group {
		group[c] = b.varGroup(c)
	}
	// The points' P×P factors are recycled once a point is left behind
	// (each search visits tens of points; fresh memory is slow here), and
	// given back to scratchPool at the end for the next search.
	var free [][]float64
	get := func() []float64 {
		if k := len(free); k > 0 {
			A := free[k-1]
			free = free[:k-1]
			return A
		}
		return getBuf(s.P * s.P)
	}
	drop := func(keep evPoint, pts ...evPoint) {
		for _, p := range pts {
			if p.U == nil || &p.U[0] == &keep.U[0] || slices.ContainsFunc(free, func(f []float64) bool { return &f[0] == &p.U[0] }) {
				continue
			}
			free = append(free, p.U)
		}
	}
	at := func(h hyper) (evPoint, bool) {
		A := get()
		U, m, lml, err := b.posterior(s, b.priorVar(h), h, A)
		if err != nil {
			free = append(free, A)
			return evPoint{}, false
		}
		return evPoint{h, U, m, lml + h.logPrior()}, true
	}
	Uinv := getBuf(s.P * s.P)
	defer func() {
		putBuf(Uinv)
		for _, f := range free {
			putBuf(f)
		}
	}()
	// update is the fixed-point update from p and the most it can gain
	// (leaving p's inverse factor in Uinv); climb moves from p towards next,
	// halved (in log space) while that lowers the objective.
	update := func(p evPoint) (hyper, float64) {
		return b.evidenceStep(s, p.U, p.m, p.hp, learn, group, Uinv)
	}
	climb := func(p evPoint, next hyper) (evPoint, bool) {
		for t, tries := 1.0, 0; tries <= 8; t, tries = t/2, tries+1 {
			q, ok := at(p.hp.towards(next, t))
			if ok && q.f >= p.f-1e-9 {
				return q, true
			}
			if ok {
				drop(p, q)
			}
		}
		return p, false
	}
	cur, ok := at(hp)
	if !ok {
		return hp, errors.New("posterior precision is not positive definite at the starting hyperparameters")
	}
	// The search stops when an update can gain less than evidenceTolF
	// (what is left is within the evidence's flatness), or a move gains
	// less or moves no log variance by evidenceTol: it keeps the point the
	// last update started from, whose inverse factor that update has just
	// computed, so its covariance costs one triangular product instead of a
	// full inversion.
	done := func(p, q evPoint, ok bool) bool {
		return !ok || q.f-p.f < evidenceTolF || p.hp.distance(q.hp) < evidenceTol
	}
	stop := func(p evPoint, others ...evPoint) (hyper, error) {
		drop(p, others...)
		copy(p.U, Uinv)
		b.hp, b.mean, b.cov, b.lml = p.hp, p.m, b.covFromInv(p.U, s.P), p.f-p.hp.logPrior()
		return p.hp, nil
	}
	// SQUAREM (Varadhan and Roland): two updates give the direction and
	// rate of the fixed-point iteration's linear convergence, and one
	// extrapolated point skips most of the small steps a variance heading
	// for a small value would take. The second update is needed only as
	// hyperparameters: its posterior is factored only when the
	// extrapolation does not gain on the first.
	for it := 0; it < evidenceMaxIter; it++ {
		if err := ctx.Err(); err != nil {
			return cur.hp, err
		}
		h1, gain := update(cur)
		if gain < evidenceTolF {
			return stop(cur)
		}
		p1, ok1 := climb(cur, h1)
		if done(cur, p1, ok1) {
			return stop(cur, p1)
		}
		h2, gain := update(p1)
		if gain < evidenceTolF {
			return stop(p1, cur)
		}
		r, v := p1.hp.logDiff(cur.hp), h2.logDiff(p1.hp)
		for i := range v {
			v[i] -= r[i]
		}
		alpha := -math.Min(math.Sqrt(dot(r, r)/math.Max(dot(v, v), 1e-300)), 1e3)
		var next evPoint
		ok2 := false
		if alpha < -1 {
			x := make([]float64, len(r))
			for i := range x {
				x[i] = -2*alpha*r[i] + alpha*alpha*v[i]
			}
			var q evPoint
			if q, ok2 = at(cur.hp.shifted(x)); ok2 && q.f >= p1.f-1e-9 {
				next = q
			} else if ok2 {
				drop(p1, q)
				ok2 = false
			}
		}
		if !ok2 {
			next, ok2 = climb(p1, h2)
		}
		if done(p1, next, ok2) {
			return stop(p1, cur, next)
		}
		drop(next, cur, p1)
		cur = next
	}
	b.hp, b.mean, b.cov, b.lml = cur.hp, cur.m, b.invertChol(cur.U, s.P), cur.f-cur.hp.logPrior()
	return cur.hp, nil
}

// evPoint is a point of the evidence search: hyperparameters, the
// posterior precision's Cholesky factor and mean there, and the objective.
type evPoint struct {
	hp   hyper
	U, m []float64
	f    float64
}

const (
	evidenceMaxIter = 40
	evidenceTol     = 0.05 // largest change of a log variance
	// evidenceTolF is the gain of the objective (nats) below which an update
	// is not worth its factorisation: the hyperparameters' own uncertainty
	// moves the objective by about one nat.
	evidenceTolF = 0.1
)

// evidenceStep is one fixed-point update from the Cholesky factor U of the
// posterior precision and the posterior mean m at hp, and the gain in the
// objective it can bring at most: the gradient (in log variances) times
// the step, a bound where the objective is concave, as near its maximum.
func (b *blr) evidenceStep(s *suff, U, m []float64, hp hyper, learn [nVar]bool, group []int, Uinv []float64) (hyper, float64) {
	P := s.P
	pv := b.priorVar(hp)
	// diag Σ: Σ = U⁻¹U⁻ᵀ, so Σ_ii is the squared norm of row i of U⁻¹
	// (Uinv is scratch; U and U⁻¹ are in the arrow order).
	copy(Uinv, U)
	o := b.arrowFor(P)
	o.invFactor(Uinv, P)
	var mm, gam [nVar]float64
	gamAll := 0.0
	for i := 0; i < P; i++ {
		pi := o.pos[i]
		row := Uinv[pi*P+pi : (pi+1)*P]
		g := 1 - dot(row, row)/pv[i]
		gamAll += g
		if v := group[i]; v >= 0 {
			mm[v] += m[i] * m[i]
			gam[v] += g
		}
	}
	// ‖y − Φm‖²_W = yᵀWy − 2mᵀr + mᵀGm (G upper triangle).
	ed := s.yy - 2*dot(m, s.r)
	for i := 0; i < P; i++ {
		row := s.G[i*P+i : (i+1)*P]
		ed += m[i] * (row[0]*m[i] + 2*dot(row[1:], m[i+1:]))
	}
	next, gain := hp, 0.0
	for v := range next.v {
		if learn[v] {
			next.v[v] = solveEvidence(mm[v], math.Max(gam[v], 0), defaultHyper.v[v], hyperSD(v))
			gain += evidenceSlope(mm[v], gam[v], hp.v[v], defaultHyper.v[v], hyperSD(v)) * math.Log(next.v[v]/hp.v[v])
		}
	}
	s2, n2 := hp.noise*hp.noise, defaultHyper.noise*defaultHyper.noise
	ns2 := solveEvidence(math.Max(ed, 0), math.Max(float64(s.n)-gamAll, 1e-3), n2, noiseSD)
	gain += evidenceSlope(ed, float64(s.n)-gamAll, s2, n2, noiseSD) * math.Log(ns2/s2)
	next.noise = math.Sqrt(ns2)
	return next, gain
}

// evidenceSlope is the derivative of the objective in log v at v, for one
// variance with statistics M and γ and a log-normal hyperprior (median v0,
// sd in log v): the function whose root solveEvidence finds.
func evidenceSlope(M, gamma, v, v0, sd float64) float64 {
	return 0.5*(M/v-gamma) - math.Log(v/v0)/(sd*sd)
}

// solveEvidence solves ½(M/v − γ) = (log v − log v0)/sd² for v: the
// stationary point of the evidence in one variance with its statistics
// fixed, pulled by a log-normal hyperprior (median v0, sd in log v). The
// left side falls and the right rises with log v: one root, found by
// Newton's method on the convex function.
func solveEvidence(M, gamma, v0, sd float64) float64 {
	u0, s2 := math.Log(v0), sd*sd
	u := u0
	if M > 0 && gamma > 0 {
		u = math.Log(M / gamma)
	}
	for range 50 {
		e := M * math.Exp(-u)
		f := 0.5*(e-gamma) - (u-u0)/s2
		df := -0.5*e - 1/s2
		du := f / df
		u -= du
		u = clamp(u, math.Log(1e-8), math.Log(1e2))
		if math.Abs(du) < 1e-10 {
			break
		}
	}
	return math.Exp(u)
}

// towards moves hp a share t of the way to next in log space.
func (h hyper) towards(next hyper, t float64) hyper {
	mix := func(a, b float64) float64 { return math.Exp((1-t)*math.Log(a) + t*math.Log(b)) }
	out := h
	out.noise = mix(h.noise, next.noise)
	for v := range out.v {
		out.v[v] = mix(h.v[v], next.v[v])
	}
	return out
}

// logDiff is log h − log o per hyperparameter (noise as a variance).
func (h hyper) logDiff(o hyper) []float64 {
	out := make([]float64, 1+nVar)
	out[0] = 2 * math.Log(h.noise/o.noise)
	for v := range h.v {
		out[1+v] = math.Log(h.v[v] / o.v[v])
	}
	return out
}

// shifted moves h by x in log space (the layout of logDiff), within the
// bounds solveEvidence keeps.
func (h hyper) shifted(x []float64) hyper {
	lo, hi := math.Log(1e-8), math.Log(1e2)
	out := h
	out.noise = math.Sqrt(math.Exp(clamp(2*math.Log(h.noise)+x[0], lo, hi)))
	for v := range h.v {
		out.v[v] = math.Exp(clamp(math.Log(h.v[v])+x[1+v], lo, hi))
	}
	return out
}

// distance is the largest change of a log variance between h and o.
func (h hyper) distance(o hyper) float64 {
	d := 2 * math.Abs(math.Log(o.noise/h.noise))
	for v := range h.v {
		d = math.Max(d, math.Abs(math.Log(o.v[v]/h.v[v])))
	}
	return d
}

// assignLevels gives every level seen in training a column, in sorted order.
func (b *blr) assignLevels(lev []levels) {
	seen := map[levelKey]bool{}
	var keys []levelKey
	for _, l := range lev {
		for g := 0; g < nGroups; g++ {
			if l.key[g] == "" {
				continue
			}
			k := levelKey{g, l.key[g]}
			if !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].group != keys[j].group {
			return keys[i].group < keys[j].group
		}
		return keys[i].key < keys[j].key
	})
	b.lev = map[levelKey]int{}
	b.order = nil // of the old columns
	b.levGroup = make([]int, len(keys))
	for i, k := range keys {
		b.lev[k] = b.dd() + i
		b.levGroup[i] = k.group
	}
}

// setPrior sets the posterior to the prior (no data).
func (b *blr) setPrior() {
	pv := b.priorVar(b.hp)
	P := len(pv)
	b.mean, b.cov = make([]float64, P), make([]float64, P*P)
	for i, v := range pv {
		b.cov[i*P+i] = v
	}
}

func (b *blr) setPosterior(s *suff, hp hyper) error {
	b.hp = hp
	A, m, lml, err := b.posterior(s, b.priorVar(hp), hp, nil)
	if err != nil {
		return err
	}
	b.mean, b.cov, b.lml = m, b.invertChol(A, s.P), lml
	return nil
}

// loo returns, for training rows, the leave-one-out standardized residual
// and mean: with h = w·φᵀΣφ/σ², removing a row moves its mean to
// y − r/(1−h) and its epistemic variance to φᵀΣφ/(1−h).
func (b *blr) loo(ctx context.Context, d *design, rows []int, w, y []float64) (z, mean []float64, err error) {
	mu, epi, _, err := b.predictDesign(ctx, d, rows, nil)
	if err != nil {
		return nil, nil, err
	}
	s2 := b.hp.noise * b.hp.noise
	z, mean = make([]float64, len(rows)), make([]float64, len(rows))
	for k, i := range rows {
		h := math.Min(w[i]*epi[k]/s2, 1-1e-9)
		r := y[i] - mu[k]
		mean[k] = y[i] - r/(1-h)
		noise := s2 * b.kappaOf(d.lev[i].key[reHardware])
		z[k] = (r / (1 - h)) / math.Sqrt((noise+epi[k]/(1-h))*b.looFactor(&d.lev[i]))
	}
	return z, mean, nil
}

// looFactor is the calibration factor of a training row's prediction from
// the other rows: its device then has one measurement less
// (engine/calibrate.go). Without it a row on a device measured once is
// judged against the model's raw variance for an unseen device, which the
// held-out devices show to be up to 4× too wide: a 3× artefact there looked
// like a 4σ row instead of a 6–12σ one. A device measured more often than
// the last anchor is judged by its own rows (factor 1): beyond the anchors
// the factor is only an extrapolation.
func (b *blr) looFactor(l *levels) float64 {
	cb, m := b.calib, b.devRows[l.key[reHardware]]-1
	if cb == nil || len(cb.k) == 0 || m > cb.k[len(cb.k)-1] {
		return 1
	}
	return cb.factor(max(m, 0), int(l.stratum))
}

// screenZ and rareLevel choose the rows looScreened scores exactly.
const (
	screenZ   = 2.0
	rareLevel = 3
)

// looScreened is loo over all n rows for flagging, without a product with
// Σ for rows that cannot be flagged: a row's leave-one-out |z| exceeds its
// plain standardized residual |r|/σ_row by 1/√(1−h) at most when its weight
// is at most 1/κ (always: engine/blrfit.go fit), so a row under screenZ
// needs leverage h > 1 − (screenZ/FlagSigma)² to reach FlagSigma. Leverage
// that high comes from a level with very few rows; rows with a level seen
// at most rareLevel times are scored exactly too. The others keep the
// plain residual and their fitted mean.
func (b *blr) looScreened(ctx context.Context, d *design, w, y []float64) (z, mean []float64, err error) {
	n := d.n
	out, err := predictModels(ctx, []modelRows{{model: b, d: d, meanOnly: true}}, nil)
	if err != nil {
		return nil, nil, err
	}
	count := b.levelCounts(d, nil)
	s2 := b.hp.noise * b.hp.noise
	z, mean = make([]float64, n), out[0].mean
	var exact []int
	for i := 0; i < n; i++ {
		z[i] = (y[i] - mean[i]) / math.Sqrt(s2*b.kappaOf(d.lev[i].key[reHardware])*b.looFactor(&d.lev[i]))
		if isRare(d, i, count, rareLevel) || math.Abs(z[i]) > screenZ {
			exact = append(exact, i)
		}
	}
	ze, me, err := b.loo(ctx, d, exact, w, y)
	if err != nil {
		return nil, nil, err
	}
	for k, i := range exact {
		z[i], mean[i] = ze[k], me[k]
	}
	return z, mean, nil
}

// levelCounts is how many of the design rows (all when rows is nil) each
// level column has (dense columns count 0).
func (b *blr) levelCounts(d *design, rows []int) []int {
	count := make([]int, b.dim())
	add := func(i int) {
		for _, c := range d.col[i] {
			if c >= 0 {
				count[c]++
			}
		}
	}
	if rows == nil {
		for i := range d.col {
			add(i)
		}
	}
	for _, i := range rows {
		add(i)
	}
	return count
}

// isRare reports whether design row i has a level seen at most most times
// (count): such a row alone (or nearly) determines that level's weight.
func isRare(d *design, i int, count []int, most int) bool {
	for _, c := range d.col[i] {
		if c >= 0 && count[c] <= most {
			return true
		}
	}
	return false
}

// withoutLone returns the statistics s of rows less those of the rows
// alone in a level (seen once), and the rows left: what the group variances
// are learned from. A row alone in a level can explain itself by that
// level's group variance: a single 3× artefact on a newly measured device,
// fitted by marginal likelihood with the rest, raised the device (or
// family) variance from ~0.003 to ~0.12; under that variance its
// leave-one-out residual was an ordinary 1.7σ, so it kept its weight and
// moved the device 2.7× (TensorRT data, one reveal). A level seen once
// cannot tell its effect from an artefact, so it does not inform how much
// levels differ; it is judged against the variances the replicated levels
// show, which its prediction from the other rows is. With robust weights
// (trusted), only the lone rows more likely wrong than right are left out:
// a right one tells how much levels differ, while one kept at weight 0.006
// was still fitted by its own level and raised the device variance tenfold.
// s and rows themselves when no row is left out or too few would be left.
func (b *blr) withoutLone(ctx context.Context, d *design, rows []int, w, y []float64, s *suff, trusted []float64) (*suff, []int, error) {
	count := b.levelCounts(d, rows)
	var lone, bulk []int
	for _, i := range rows {
		if isRare(d, i, count, 1) && (trusted == nil || trusted[i] < 0.5) {
			lone = append(lone, i)
		} else {
			bulk = append(bulk, i)
		}
	}
	if len(lone) == 0 || len(bulk) < minHyperRows {
		return s, rows, nil
	}
	r, err := b.gram(ctx, d, lone, w, y, s.P)
	if err != nil {
		return nil, nil, err
	}
	out := &suff{P: s.P, G: slices.Clone(s.G), r: slices.Clone(s.r), yy: s.yy - r.yy, n: s.n - r.n, logW: s.logW - r.logW}
	floats.Sub(out.G, r.G)
	floats.Sub(out.r, r.r)
	return out, bulk, nil
}

// kappaOf is the noise inflation of a device.
func (b *blr) kappaOf(hw string) float64 {
	if k, ok := b.kappa[hw]; ok {
		return k
	}
	return b.kappaPool
}

// reweight sets robust weights from leave-one-out residuals, then per-device
// noise inflation from the robustly weighted squared residuals, and writes
// the combined weights w = robust/κ for the given rows.
func (b *blr) reweight(lev []levels, rows []int, z, robust, w []float64) {
	type acc struct{ sz, sw float64 }
	per := map[string]*acc{}
	var order []string
	var pool acc
	for k, i := range rows {
		robust[i] = robustWeight(z[k])
		hw := lev[i].key[reHardware]
		a := per[hw]
		if a == nil {
			a = &acc{}
			per[hw] = a
			order = append(order, hw)
		}
		// z was standardized with the current κ: undo it.
		z2 := z[k] * z[k] * b.kappaOf(hw)
		a.sz += robust[i] * z2
		a.sw += robust[i]
		pool.sz += robust[i] * z2
		pool.sw += robust[i]
	}
	poolK := 1.0
	if pool.sw > 0 {
		poolK = math.Max(pool.sz/pool.sw, 0.25)
	}
	kappa := map[string]float64{}
	for _, hw := range order {
		a := per[hw]
		kappa[hw] = (kappaPrior*poolK + a.sz) / (kappaPrior + a.sw)
	}
	b.kappa, b.kappaPool = kappa, poolK
	for _, i := range rows {
		w[i] = robust[i] / b.kappaOf(lev[i].key[reHardware])
	}
}

// robustWeight is the probability that a row with leave-one-out residual z
// is an ordinary measurement under a contaminated-normal likelihood: a
// share outlierShare of rows comes from a component outlierScale times
// wider. That is the weight iteratively reweighted least squares (EM)
// gives it: 1 for ordinary residuals, ~0.3 at 4σ, ~0 beyond 5σ, so a wrong
// row neither drags its device nor inflates the noise.
func robustWeight(z float64) float64 {
	if math.IsNaN(z) {
		return 1
	}
	in := (1 - outlierShare) * math.Exp(-0.5*z*z)
	u := z / outlierScale
	out := outlierShare * math.Exp(-0.5*u*u) / outlierScale
	return in / (in + out)
}

// predictDesign returns, for design rows (all when rows is nil), the
// posterior mean, epistemic variance and prior variance of the latent
// residual. Levels without a column contribute their prior variance.
func (b *blr) predictDesign(ctx context.Context, d *design, rows []int, skip []bool) (mean, epi, prior []float64, err error) {
	out, err := predictModels(ctx, []modelRows{{model: b, d: d, skip: skip}}, rows)
	if err != nil {
		return nil, nil, nil, err
	}
	return out[0].mean, out[0].epi, out[0].prior, nil
}

// modelRows is a model with its design of some rows and the rows it need
// not predict (nil: none); meanOnly leaves the variances at 0 (they cost
// a product with the posterior covariance per row).
type modelRows struct {
	model    *blr
	d        *design
	skip     []bool
	meanOnly bool
}

// modelPred is predictModels' answer for one model.
type modelPred struct{ mean, epi, prior []float64 }

// predictModels predicts the same rows (all when rows is nil) with models
// that share their random features (same seed: engine/predictor.go), so
// each row's dense block is computed once for all of them. Chunks run in
// parallel; each row's numbers depend only on that row.
func predictModels(ctx context.Context, ms []modelRows, rows []int) ([]modelPred, error) {
	n := ms[0].d.n
	if rows != nil {
		n = len(rows)
	}
	dd := ms[0].model.dd()
	out := make([]modelPred, len(ms))
	for j := range out {
		out[j] = modelPred{make([]float64, n), make([]float64, n), make([]float64, n)}
	}
	phis, subs, Ts := scratch(n, chunkRows*dd), scratch(n, chunkRows*dd), scratch(n, chunkRows*dd)
	defer release(phis, subs, Ts)
	halves := make([][]float64, len(ms))
	for j, m := range ms {
		if !m.meanOnly {
			halves[j] = halfUpper(m.model.cov, m.model.dim(), dd)
		}
	}
	// Each worker's row lists, reused chunk after chunk.
	type rowLists struct{ ks, drows, pos []int }
	lists := make([]rowLists, workers(n))
	for w := range lists {
		c := min(n, chunkRows)
		lists[w] = rowLists{make([]int, 0, c), make([]int, 0, c), make([]int, 0, c)}
	}
	err := parallelChunks(ctx, n, func(wk, _, lo, hi int) {
		// The rows some model needs, and their dense blocks.
		l := &lists[wk]
		ks, drows := l.ks[:0], l.drows[:0]
		for k := lo; k < hi; k++ {
			i := k
			if rows != nil {
				i = rows[k]
			}
			for _, m := range ms {
				if m.skip == nil || !m.skip[i] {
					ks, drows = append(ks, k), append(drows, i)
					break
				}
			}
		}
		l.ks, l.drows = ks, drows
		if len(ks) == 0 {
			return
		}
		phi := phis[wk][:len(ks)*dd]
		ms[0].model.denseBlock(phi, ms[0].d, drows)
		for j, m := range ms {
			sub, pos := phi, l.pos[:0]
			for r, i := range drows {
				if m.skip == nil || !m.skip[i] {
					pos = append(pos, r)
				}
			}
			l.pos = pos
			if len(pos) < len(ks) {
				sub = subs[wk][:0]
				for _, r := range pos {
					sub = append(sub, phi[r*dd:(r+1)*dd]...)
				}
			}
			if len(pos) == 0 {
				continue
			}
			m.model.predictBlock(m.d, sub, Ts[wk][:len(sub)], halves[j], pos, ks, drows, out[j])
		}
	})
	return out, err
}

// predictBlock fills out at rows ks[pos[r]] (design row drows[pos[r]])
// from their dense blocks phi (row r for pos[r]); T is scratch. half is
// halfUpper of the covariance's dense block; nil: means only.
func (b *blr) predictBlock(d *design, phi, T, half []float64, pos, ks, drows []int, out modelPred) {
	dd, P := b.dd(), b.dim()
	m := len(pos)
	pv := b.priorVar(b.hp)
	meanOnly := half == nil
	if !meanOnly {
		triRows(T, phi, half, m, dd)
	}
	for r, pr := range pos {
		k, i := ks[pr], drows[pr]
		p := phi[r*dd : (r+1)*dd]
		mu := dot(p, b.mean[:dd])
		cols, vals := &d.col[i], &d.lev[i].val
		if meanOnly {
			for g := 0; g < nGroups; g++ {
				if cg := int(cols[g]); cg >= 0 {
					mu += vals[g] * b.mean[cg]
				}
			}
			out.mean[k] = mu
			continue
		}
		e, prior := 2*dot(p, T[r*dd:(r+1)*dd]), 0.0
		for j, v := range p {
			prior += v * v * pv[j]
		}
		for g := 0; g < nGroups; g++ {
			if d.lev[i].key[g] == "" {
				continue
			}
			v := vals[g]
			tv := b.hp.re(g) * v * v
			prior += tv
			cg := int(cols[g])
			if cg < 0 {
				e += tv
				continue
			}
			mu += v * b.mean[cg]
			e += 2 * v * dot(b.cov[cg*P:cg*P+dd], p)
			for h := 0; h < nGroups; h++ {
				if ch := int(cols[h]); ch >= 0 {
					e += v * vals[h] * b.cov[cg*P+ch]
				}
			}
		}
		out.mean[k], out.epi[k], out.prior[k] = mu, math.Max(e, 0), prior
	}
}

// dot is gonum's vectorized inner product (lengths must match).
func dot(a, b []float64) float64 { return floats.Dot(a, b) }
