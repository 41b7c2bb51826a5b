package store

import (
	"context"
	"database/sql"
	"fmt"

	"perfpilot/engine"
)

// SaveCatalogAdditions stores a self-contained catalog document (as from
// engine.Catalog.Additions) under a label. Saving a document that is already
// stored moves it to the end instead of keeping two copies, so replay order
// still reflects the latest save. A nil or empty doc is a no-op.
func (db *DB) SaveCatalogAdditions(ctx context.Context, label string, doc []byte) error {
	if len(doc) == 0 {
		return nil
	}
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "DELETE FROM catalog_additions WHERE doc = ?", string(doc)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, "INSERT INTO catalog_additions (label, doc, added_at) VALUES (?, ?, ?)",
			label, string(doc), formatTime(db.now()))
		return err
	})
	if err != nil {
		return fmt.Errorf("save catalog additions %q: %w", label, err)
	}
	return nil
}

// LoadCatalog applies the stored catalog additions to cat, oldest first, so
// later additions replace earlier entries with the same id.
func (db *DB) LoadCatalog(ctx context.Context, cat *engine.Catalog) error {
	rows, err := db.sql.QueryContext(ctx, "SELECT label, doc FROM catalog_additions ORDER BY id")
	if err != nil {
		return fmt.Errorf("load catalog additions: %w", err)
	}
	defer rows.Close()
	type addition struct{ label, doc string }
	var adds []addition
	for rows.Next() {
		var a addition
		if err := rows.Scan(&a.label, &a.doc); err != nil {
			return fmt.Errorf("load catalog additions: %w", err)
		}
		adds = append(adds, a)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("load catalog additions: %w", err)
	}
	for _, a := range adds {
		if err := cat.AddJSON([]byte(a.doc), "stored:"+a.label); err != nil {
			return fmt.Errorf("load catalog additions: %w", err)
		}
	}
	return nil
}
