// Package fileio owns how gominitron touches the user's files: atomic file
// and folder outputs staged beside their destination (so a rename never
// crosses filesystems), creation of missing parent folders, the output-path
// guard that refuses to write into an input, the advisory lock of a run
// folder, safe opening of inputs (regular files only, side files inside
// their model folder, bounded sizes) and their read-only memory-mapping
// (MapFile: token files, safetensors checkpoints).
//
// Every command and library function that writes a user-visible file goes
// through WriteFile, WriteStream, WriteJSON or StageDir; every output path
// given by a user goes through CheckOutput first.
package fileio
