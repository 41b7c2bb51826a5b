package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

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

// CatalogAddition is one stored catalog document.
type CatalogAddition struct {
	ID      int64
	Label   string
	Doc     []byte
	AddedAt time.Time
}

// CatalogAdditions lists the stored catalog documents in replay order.
func (db *DB) CatalogAdditions(ctx context.Context) ([]CatalogAddition, error) {
	rows, err := db.sql.QueryContext(ctx, "SELECT id, label, doc, added_at FROM catalog_additions ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("load catalog additions: %w", err)
	}
	defer rows.Close()
	var adds []CatalogAddition
	for rows.Next() {
		var a CatalogAddition
		var doc, at string
		if err := rows.Scan(&a.ID, &a.Label, &doc, &at); err != nil {
			return nil, fmt.Errorf("load catalog additions: %w", err)
		}
		if a.AddedAt, err = parseTime(at); err != nil {
			return nil, fmt.Errorf("load catalog addition %d: added_at: %w", a.ID, err)
		}
		a.Doc = []byte(doc)
		adds = append(adds, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load catalog additions: %w", err)
	}
	return adds, nil
}

// LoadCatalog applies the stored catalog additions to cat, oldest first, so
// later additions replace earlier entries with the same id. An addition that
// no longer validates (validation tightens between versions) names its id,
// so that `perfpilot catalog forget ID` can remove it: without that way out
// every command that builds the catalog would fail.
func (db *DB) LoadCatalog(ctx context.Context, cat *engine.Catalog) error {
	adds, err := db.CatalogAdditions(ctx)
	if err != nil {
		return err
	}
	for _, a := range adds {
		if err := cat.AddJSON(a.Doc, "stored:"+a.Label); err != nil {
			return fmt.Errorf("stored catalog addition %d: %w (remove it with: perfpilot catalog forget %d)", a.ID, err, a.ID)
		}
	}
	return nil
}

// DeleteCatalogAddition removes one stored catalog document. Results that
// name its hardware or models stay; they are shown as unknown until a
// catalog describes them again.
func (db *DB) DeleteCatalogAddition(ctx context.Context, id int64) error {
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "DELETE FROM catalog_additions WHERE id = ?", id)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("%w: %d", ErrAdditionNotFound, id)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("delete catalog addition: %w", err)
	}
	return nil
}
