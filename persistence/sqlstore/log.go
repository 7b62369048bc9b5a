package sqlstore

// Log is the embedded event log kept in the store's database.
type Log struct {
	s *Store
}

func newLog(s *Store) *Log { return &Log{s: s} }
