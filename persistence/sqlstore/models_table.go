package sqlstore

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/frontdesk-ai/frontdesk/persistence"
)

// This file holds what every model shares: create, get, version-checked
// update and keyset-paginated listing, driven by a table descriptor per
// model. The models_*.go files hold the descriptors and the typed methods.

// baseColumns are the first columns of every model table, in the order of
// the fields of persistence.Base.
const baseColumns = "id, tenant_id, created_at, updated_at, metadata, version"

// record is a pointer to a model: a struct that embeds persistence.Base.
type record[T any] interface {
	*T
	BaseFields() *persistence.Base
}

// table maps one model type to its table.
type table[T any] struct {
	name string
	// cols are the model's own columns, in the order fields returns them.
	cols []string
	// fields returns pointers to the model's own fields. Supported field
	// types: string kinds, int kinds, bool, time.Time, *time.Time,
	// json.RawMessage (nil is stored as {}) and []string (stored as a JSON
	// array).
	fields func(*T) []any
	// check, when set, fills defaults and validates a record before a write.
	check func(*T) error
}

func (t table[T]) selectSQL() string {
	return "SELECT " + baseColumns + ", " + strings.Join(t.cols, ", ") + " FROM " + t.name
}

// createArgs fills m's ID (when empty), CreatedAt (when zero), UpdatedAt
// and Version, and returns the values of its row in the order of
// baseColumns and t.cols.
func createArgs[T any, P record[T]](t table[T], m P) ([]any, error) {
	b := m.BaseFields()
	if b.ID == "" {
		b.ID = uuid.NewString()
	}
	if b.CreatedAt.IsZero() {
		b.CreatedAt = time.Now()
	}
	b.CreatedAt = normTime(b.CreatedAt)
	b.UpdatedAt, b.Version = b.CreatedAt, 1
	args, err := writeArgs(t, m)
	if err != nil {
		return nil, err
	}
	// args starts with metadata; version follows it in baseColumns.
	return slices.Concat([]any{b.ID, b.TenantID, b.CreatedAt, b.UpdatedAt, args[0], b.Version}, args[1:]), nil
}

// create inserts m, filling its ID (when empty), CreatedAt (when zero),
// UpdatedAt and Version.
func create[T any, P record[T]](ctx context.Context, q q, t table[T], m P) error {
	args, err := createArgs(t, m)
	if err != nil {
		return fmt.Errorf("create %s: %w", t.name, err)
	}
	query := "INSERT INTO " + t.name + " (" + baseColumns + ", " + strings.Join(t.cols, ", ") +
		") VALUES (?" + strings.Repeat(", ?", len(args)-1) + ")"
	if _, err := q.ex.ExecContext(ctx, q.d.rebind(query), args...); err != nil {
		return fmt.Errorf("create %s: %w", t.name, mapErr(err))
	}
	return nil
}

// update writes m where its ID, TenantID and Version match the stored row,
// then bumps m's Version and UpdatedAt. When no row matches it returns
// persistence.ErrNotFound if the row is absent from the tenant and
// persistence.ErrVersionConflict otherwise.
func update[T any, P record[T]](ctx context.Context, q q, t table[T], m P) error {
	b := m.BaseFields()
	args, err := writeArgs(t, m)
	if err != nil {
		return fmt.Errorf("update %s %s: %w", t.name, b.ID, err)
	}
	now := normTime(time.Now())
	args = append([]any{now}, args...)
	args = append(args, b.ID, b.TenantID, b.Version)
	query := "UPDATE " + t.name + " SET updated_at = ?, version = version + 1, metadata = ?, " +
		strings.Join(t.cols, " = ?, ") + " = ? WHERE id = ? AND tenant_id = ? AND version = ?"
	res, err := q.ex.ExecContext(ctx, q.d.rebind(query), args...)
	if err != nil {
		return fmt.Errorf("update %s %s: %w", t.name, b.ID, mapErr(err))
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("update %s %s: %w", t.name, b.ID, err)
	}
	if n == 0 {
		var one int
		err := q.ex.QueryRowContext(ctx, q.d.rebind("SELECT 1 FROM "+t.name+" WHERE id = ? AND tenant_id = ?"), b.ID, b.TenantID).Scan(&one)
		if err == nil {
			err = persistence.ErrVersionConflict
		}
		return fmt.Errorf("update %s %s at version %d: %w", t.name, b.ID, b.Version, mapErr(err))
	}
	b.UpdatedAt = now
	b.Version++
	return nil
}

// writeArgs checks m and returns the values of its metadata and own columns,
// normalising times and JSON in m so that m equals what a read returns.
func writeArgs[T any, P record[T]](t table[T], m P) ([]any, error) {
	b := m.BaseFields()
	if t.check != nil {
		if err := t.check(m); err != nil {
			return nil, err
		}
	}
	if b.TenantID == "" {
		return nil, fmt.Errorf("empty tenant id: %w", persistence.ErrInvalid)
	}
	fields := append([]any{&b.Metadata}, t.fields(m)...)
	args := make([]any, len(fields))
	for i, f := range fields {
		v, err := arg(f)
		if err != nil {
			return nil, err
		}
		args[i] = v
	}
	return args, nil
}

// get returns the tenant's row id.
func get[T any, P record[T]](ctx context.Context, q q, t table[T], tenantID, id string) (T, error) {
	return first[T, P](ctx, q, t, "tenant_id = ? AND id = ?", tenantID, id)
}

// byKey returns the tenant's row whose column col equals key, or
// persistence.ErrNotFound; an empty key (an optional unique) matches nothing.
func byKey[T any, P record[T]](ctx context.Context, q q, t table[T], tenantID, col, key string) (T, error) {
	if key == "" {
		var zero T
		return zero, fmt.Errorf("get %s: empty %s: %w", t.name, col, persistence.ErrNotFound)
	}
	return first[T, P](ctx, q, t, "tenant_id = ? AND "+col+" = ?", tenantID, key)
}

// first returns the first row matching where (and an optional ORDER BY), or
// persistence.ErrNotFound.
func first[T any, P record[T]](ctx context.Context, q q, t table[T], where string, args ...any) (T, error) {
	m, err := scanRow[T, P](t, q.ex.QueryRowContext(ctx, q.d.rebind(t.selectSQL()+" WHERE "+where+" LIMIT 1"), args...))
	if err != nil {
		return m, fmt.Errorf("get %s: %w", t.name, mapErr(err))
	}
	return m, nil
}

// all returns the rows of the query t.selectSQL() + " " + rest.
func all[T any, P record[T]](ctx context.Context, q q, t table[T], rest string, args ...any) ([]T, error) {
	rows, err := q.ex.QueryContext(ctx, q.d.rebind(t.selectSQL()+" "+rest), args...)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", t.name, mapErr(err))
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		m, err := scanRow[T, P](t, rows)
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", t.name, err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list %s: %w", t.name, err)
	}
	return out, nil
}

// list returns one page of the rows matching where (may be empty), ordered
// by (created_at, id), and the cursor of the next page ("" on the last).
func list[T any, P record[T]](ctx context.Context, q q, t table[T], p persistence.Page, where string, args ...any) ([]T, string, error) {
	return listOrdered[T, P](ctx, q, t, p, false, where, args...)
}

// listNewest is list, newest first.
func listNewest[T any, P record[T]](ctx context.Context, q q, t table[T], p persistence.Page, where string, args ...any) ([]T, string, error) {
	return listOrdered[T, P](ctx, q, t, p, true, where, args...)
}

func listOrdered[T any, P record[T]](ctx context.Context, q q, t table[T], p persistence.Page, desc bool, where string, args ...any) ([]T, string, error) {
	var conds []string
	if where != "" {
		conds = append(conds, where)
	}
	args = slices.Clone(args)
	if p.Cursor != "" {
		at, id, err := decodeCursor(p.Cursor)
		if err != nil {
			return nil, "", fmt.Errorf("list %s: %w", t.name, err)
		}
		cmp := ">"
		if desc {
			cmp = "<"
		}
		conds = append(conds, "(created_at "+cmp+" ? OR (created_at = ? AND id "+cmp+" ?))")
		args = append(args, at, at, id)
	}
	rest := "ORDER BY created_at, id LIMIT ?"
	if desc {
		rest = "ORDER BY created_at DESC, id DESC LIMIT ?"
	}
	if len(conds) > 0 {
		rest = "WHERE " + strings.Join(conds, " AND ") + " " + rest
	}
	size := p.Size()
	out, err := all[T, P](ctx, q, t, rest, append(args, size+1)...)
	if err != nil || len(out) <= size {
		return out, "", err
	}
	out = out[:size]
	return out, encodeCursor(P(&out[size-1]).BaseFields()), nil
}

func encodeCursor(b *persistence.Base) string {
	return base64.RawURLEncoding.EncodeToString([]byte(b.CreatedAt.Format(time.RFC3339Nano) + " " + b.ID))
}

func decodeCursor(c string) (time.Time, string, error) {
	raw, err := base64.RawURLEncoding.DecodeString(c)
	at, id, ok := strings.Cut(string(raw), " ")
	if err != nil || !ok || id == "" {
		return time.Time{}, "", fmt.Errorf("cursor %q: %w", c, persistence.ErrInvalid)
	}
	t, err := time.Parse(time.RFC3339Nano, at)
	if err != nil {
		return time.Time{}, "", fmt.Errorf("cursor %q: %w", c, persistence.ErrInvalid)
	}
	return normTime(t), id, nil
}

// scanRow reads one row of t.selectSQL() into a new model.
func scanRow[T any, P record[T]](t table[T], row interface{ Scan(...any) error }) (T, error) {
	var m T
	b := P(&m).BaseFields()
	dst := []any{&b.ID, &b.TenantID, field{&b.CreatedAt}, field{&b.UpdatedAt}, field{&b.Metadata}, &b.Version}
	for _, f := range t.fields(&m) {
		switch f.(type) {
		case *time.Time, **time.Time, *json.RawMessage, *[]string:
			f = field{f}
		}
		dst = append(dst, f)
	}
	err := row.Scan(dst...)
	return m, err
}

// normTime is how the store keeps times: UTC, in microseconds (PostgreSQL's
// precision).
func normTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// arg returns the database value of the model field p points to. It
// normalises times and empty JSON in place.
func arg(p any) (any, error) {
	switch p := p.(type) {
	case *time.Time:
		*p = normTime(*p)
		return *p, nil
	case **time.Time:
		if *p == nil {
			return nil, nil
		}
		t := normTime(**p)
		*p = &t
		return t, nil
	case *json.RawMessage:
		if len(bytes.TrimSpace(*p)) == 0 {
			*p = json.RawMessage("{}")
		}
		if !json.Valid(*p) {
			return nil, fmt.Errorf("malformed JSON: %w", persistence.ErrInvalid)
		}
		return string(*p), nil
	case *[]string:
		if len(*p) == 0 {
			*p = nil
			return "[]", nil
		}
		b, err := json.Marshal(*p)
		return string(b), err
	}
	v := reflect.ValueOf(p).Elem()
	switch v.Kind() {
	case reflect.String:
		return v.String(), nil
	case reflect.Int, reflect.Int32, reflect.Int64:
		return v.Int(), nil
	case reflect.Bool:
		return v.Bool(), nil
	}
	return nil, fmt.Errorf("model field of type %T is not supported", p)
}

// field scans a column into a time or JSON model field, converting times to
// UTC and decoding JSON; other fields are scanned by database/sql as is.
type field struct{ p any }

// Scan implements sql.Scanner.
func (f field) Scan(src any) error {
	switch p := f.p.(type) {
	case *time.Time:
		t, err := asTime(src)
		*p = t
		return err
	case **time.Time:
		*p = nil
		if src == nil {
			return nil
		}
		t, err := asTime(src)
		*p = &t
		return err
	case *json.RawMessage:
		raw, err := asBytes(src)
		*p = raw
		return err
	case *[]string:
		raw, err := asBytes(src)
		if err != nil {
			return err
		}
		*p = nil
		if err := json.Unmarshal(raw, p); err != nil {
			return fmt.Errorf("decode JSON list: %w", err)
		}
		if len(*p) == 0 {
			*p = nil
		}
		return nil
	}
	return fmt.Errorf("scan into %T is not supported", f.p)
}

func asTime(src any) (time.Time, error) {
	t, ok := src.(time.Time)
	if !ok {
		return time.Time{}, fmt.Errorf("time column holds %T", src)
	}
	return t.UTC(), nil
}

func asBytes(src any) ([]byte, error) {
	switch v := src.(type) {
	case []byte:
		return bytes.Clone(v), nil
	case string:
		return []byte(v), nil
	}
	return nil, fmt.Errorf("JSON column holds %T", src)
}

// need returns nil when ok, else an error wrapping persistence.ErrInvalid
// that names the field and its value.
func need(ok bool, field string, v any) error {
	if ok {
		return nil
	}
	return fmt.Errorf("%s %q: %w", field, v, persistence.ErrInvalid)
}

// orDefault sets *s to def when it is empty.
func orDefault[S ~string](s *S, def S) {
	if *s == "" {
		*s = def
	}
}
