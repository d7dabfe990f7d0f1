// Command kratos is Ory Kratos, built from its published Go module for the e2e suite.
package main

import (
	"os"

	"github.com/ory/kratos/cmd"
)

func main() {
	os.Exit(cmd.Execute())
}
