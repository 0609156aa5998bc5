print("shoal")
