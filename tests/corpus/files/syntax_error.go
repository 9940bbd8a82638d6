package orders

import "fmt"

// Total adds prices.
func Total(prices []int) int {
	sum := 0
	for _, p := range prices {
		sum += p
	}
	return sum
}

func Broken(a int, b string {
	if a > {
		fmt.Println(b
	}

type Unfinished struct {
	Name string
	Count
}

func AfterTheErrors(x int) int { return x * 2 }
