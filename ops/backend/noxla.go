//go:build noxla

package backend

const xlaCompiledIn = false
