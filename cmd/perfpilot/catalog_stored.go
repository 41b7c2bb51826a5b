package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"perfpilot/engine"
	"perfpilot/safetext"
	"perfpilot/store"
)

// additionJSON is one stored catalog document as `catalog additions` lists
// it; Error says why it no longer loads (validation tightens between
// versions), empty when it does.
type additionJSON struct {
	ID       int64     `json:"id"`
	Label    string    `json:"label"`
	AddedAt  time.Time `json:"added_at"`
	Hardware []string  `json:"hardware"`
	Models   []string  `json:"models"`
	Error    string    `json:"error,omitempty"`
}

func newCatalogAdditionsCmd(g *globalOptions) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "additions",
		Short: "List the catalog documents stored by import --catalog, oldest first, and whether each still loads",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCatalogAdditions(cmd.Context(), g, asJSON)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func runCatalogAdditions(ctx context.Context, g *globalOptions, asJSON bool) error {
	// Not openWithCatalog: this must work when a stored addition is invalid.
	db, err := g.openDB(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	adds, err := db.CatalogAdditions(ctx)
	if err != nil {
		return err
	}
	out := []additionJSON{}
	for _, a := range adds {
		j := additionJSON{ID: a.ID, Label: a.Label, AddedAt: a.AddedAt}
		// Each document on its own over the built-ins: it is self-contained
		// (engine.Catalog.Additions), so its error is its own.
		cat, err := engine.NewBuiltinCatalog()
		if err != nil {
			return err
		}
		if err := cat.AddJSON(a.Doc, "stored:"+a.Label); err != nil {
			j.Error = err.Error()
		}
		j.Hardware, j.Models = docIDs(a.Doc)
		out = append(out, j)
	}
	if asJSON || !g.io.TTY {
		return encodeJSON(g, out)
	}
	if len(out) == 0 {
		_, err := fmt.Fprintln(g.io.Out, "no stored catalog additions (import --catalog FILE stores one)")
		return err
	}
	tw := tabwriter.NewWriter(g.io.Out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tLABEL\tADDED\tHARDWARE\tMODELS\tSTATUS")
	for _, a := range out {
		status := "ok"
		if a.Error != "" {
			status = "invalid: " + safetext.Clean(a.Error)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%d\t%s\n", a.ID, safetext.Clean(a.Label), a.AddedAt.Format(time.DateTime),
			len(a.Hardware), len(a.Models), status)
	}
	return tw.Flush()
}

// docIDs names the entries of a stored document (empty when it does not
// parse: the status column says why).
func docIDs(doc []byte) (hardware, models []string) {
	var d struct {
		Hardware []struct{ ID string } `json:"hardware"`
		Models   []struct{ ID string } `json:"models"`
	}
	_ = json.Unmarshal(doc, &d)
	hardware, models = []string{}, []string{}
	for _, h := range d.Hardware {
		hardware = append(hardware, h.ID)
	}
	for _, m := range d.Models {
		models = append(models, m.ID)
	}
	return hardware, models
}

func newCatalogForgetCmd(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "forget ID",
		Short: "Delete one stored catalog addition (see catalog additions); results measured on its hardware stay",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("catalog forget: want one addition id (see perfpilot catalog additions)")
			}
			if id, err := strconv.ParseInt(args[0], 10, 64); err != nil || id <= 0 {
				return usagef("catalog forget: addition id %s is not a positive integer", safetext.Quote(args[0]))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			id, _ := strconv.ParseInt(args[0], 10, 64)
			db, err := g.openDB(cmd.Context())
			if err != nil {
				return err
			}
			defer db.Close()
			if err := db.DeleteCatalogAddition(cmd.Context(), id); err != nil {
				return err
			}
			fmt.Fprintf(g.io.Err, "deleted stored catalog addition %d\n", id)
			return warnUndescribed(cmd.Context(), g, db)
		},
	}
}

// warnUndescribed says which stored results name hardware that no catalog
// describes any more: every command that fits the model refuses them until
// `import --catalog FILE` describes it again.
func warnUndescribed(ctx context.Context, g *globalOptions, db *store.DB) error {
	cat, err := g.catalog(ctx, db)
	if err != nil {
		// Another stored addition is invalid too: the deletion stands.
		fmt.Fprintf(g.io.Err, "warning: %v\n", err)
		return nil
	}
	results, err := db.AllResults(ctx)
	if err != nil {
		return err
	}
	count := map[string]int{}
	var ids []string
	for _, r := range results {
		if cat.Hardware(r.Config.Hardware) == nil {
			if count[r.Config.Hardware] == 0 {
				ids = append(ids, r.Config.Hardware)
			}
			count[r.Config.Hardware]++
		}
	}
	for _, id := range ids {
		fmt.Fprintf(g.io.Err, "warning: %d stored results were measured on %s, which no catalog describes now: describe it again with perfpilot import --catalog FILE (or delete those results)\n",
			count[id], safetext.Quote(id))
	}
	return nil
}
