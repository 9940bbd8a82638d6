package tree

// Node is a small valid Go file used as a fuzz seed.
type Node struct {
	Left, Right *Node
	Value       int
}

func (n *Node) Sum() int {
	if n == nil {
		return 0
	}
	return n.Value + n.Left.Sum() + n.Right.Sum()
}

func Build(values ...int) *Node {
	var root *Node
	for _, v := range values {
		root = insert(root, v)
	}
	return root
}

func insert(n *Node, v int) *Node {
	if n == nil {
		return &Node{Value: v}
	}
	if v < n.Value {
		n.Left = insert(n.Left, v)
	} else {
		n.Right = insert(n.Right, v)
	}
	return n
}
